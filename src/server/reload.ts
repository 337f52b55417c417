import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { isSignerError } from '../errors.ts';
import { loadConfig, type Environment } from '../config/load-config.ts';
import type { ServiceConfig } from '../config/service-config.ts';
import { createLiveKeys, type App } from './context.ts';
import { loadKeyrings } from './load-keyring.ts';

export interface Reloader {
  /** Re-reads configuration and keys; swaps them in only if everything is valid. */
  reload(reason: string): boolean;
  /** Stops watching files. */
  close(): void;
}

/** The files whose change should trigger a reload: the config file and every key file. */
function watchedFiles(config: ServiceConfig, env: Environment): string[] {
  const files = config.distributions.flatMap((distribution) =>
    distribution.keys.flatMap((key) =>
      key.privateKeyFile === undefined ? [] : [key.privateKeyFile],
    ),
  );
  const configFile = env['CFSIGN_CONFIG'];
  return [...new Set([...(configFile === undefined ? [] : [configFile]), ...files])].map((file) =>
    resolve(file),
  );
}

const DEBOUNCE_MS = 250;

/** Settings a running server read once; a reload reports their change instead of applying it. */
const RESTART_ONLY = [
  'host',
  'port',
  'logLevel',
  'rateLimit',
  'cookies',
  'maxBatchSize',
  'maxSigningInFlight',
  'shutdownDelaySeconds',
] as const satisfies readonly (keyof ServiceConfig)[];

/**
 * Reloads on demand (SIGHUP) and, with `watchFiles`, when the configuration file or a key file
 * changes. Everything is validated before the swap; the keys, their Key-Pair-Ids, the clients
 * and their rules change together in one assignment, so no request sees half of a change. On
 * any error the previous state stays, one log line names the setting (never a path or a PEM),
 * and cfsign_reload_failures_total counts it.
 */
export function createReloader(
  app: App,
  env: Environment,
  options: { watchFiles: boolean },
): Reloader {
  const context = app.cfsign;
  let watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;

  function rewatch(config: ServiceConfig): void {
    for (const watcher of watchers) watcher.close();
    watchers = [];
    if (!options.watchFiles) return;
    // Watch directories, not files: editors and secret mounts replace files by renaming.
    const byDirectory = new Map<string, Set<string>>();
    for (const file of watchedFiles(config, env)) {
      const names = byDirectory.get(dirname(file)) ?? new Set<string>();
      names.add(basename(file));
      byDirectory.set(dirname(file), names);
    }
    for (const [directory, names] of byDirectory) {
      try {
        const watcher = watch(directory, (_event, name) => {
          if (name !== null && !names.has(name) && !name.startsWith('..')) return;
          clearTimeout(timer);
          timer = setTimeout(() => reload('file change'), DEBOUNCE_MS);
          timer.unref();
        });
        watcher.unref();
        watchers.push(watcher);
      } catch {
        app.log.warn('a configuration or key directory cannot be watched; reload with SIGHUP');
      }
    }
  }

  function reload(reason: string): boolean {
    try {
      const config = loadConfig(env);
      const keyrings = loadKeyrings(config.distributions, env);
      const needRestart = RESTART_ONLY.filter(
        (setting) => JSON.stringify(config[setting]) !== JSON.stringify(context.config[setting]),
      );
      if (needRestart.length > 0) {
        app.log.warn(
          { settings: needRestart },
          'these settings changed but take effect only on restart; distributions, keys and clients were reloaded',
        );
      }
      context.live = createLiveKeys(config, keyrings, context.metrics, context.now);
      context.metrics.reloads.inc();
      app.log.info(
        {
          reason,
          distributions: config.distributions.map((distribution) => ({
            name: distribution.name,
            activeKey: distribution.activeKey,
          })),
        },
        'configuration and keys reloaded',
      );
      rewatch(config);
      return true;
    } catch (error) {
      context.metrics.reloadFailures.inc();
      const problems = isSignerError(error) ? error.details?.['problems'] : undefined;
      app.log.error(
        {
          reason,
          problems: Array.isArray(problems)
            ? problems
            : [isSignerError(error) ? error.message : 'unexpected error'],
        },
        'reload refused; keeping the previous configuration and keys',
      );
      return false;
    }
  }

  rewatch(context.config);
  return {
    reload,
    close() {
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
      watchers = [];
    },
  };
}
