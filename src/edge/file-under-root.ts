import { realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';

/** A file to serve (its path below the root, `/`-separated) or why there is none. */
export type FileLookup = { found: true; path: string } | { found: false; reason: string };

function missing(reason: string): FileLookup {
  return { found: false, reason };
}

/**
 * Finds the regular file a URL path names below `root` (itself a real path), or says why none
 * is served. The path is percent-decoded once, as an S3 key is; then empty, `.` and `..`
 * segments (however they were spelled: `%2e%2e`, `..%2F`), NUL, backslashes and hidden names
 * are refused, and the file's real path, symbolic links resolved, must still lie inside the
 * root. Nothing here lists a directory.
 */
export async function findFileUnderRoot(root: string, urlPath: string): Promise<FileLookup> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return missing('the path has an invalid percent escape');
  }
  const segments = decoded.split('/').slice(1);
  if (segments.length === 0 || segments.at(-1) === '') {
    return missing(`${urlPath} names a directory; the edge serves files only, never a listing`);
  }
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    return missing(`${urlPath} has an empty, '.' or '..' segment once decoded`);
  }
  if (/[\0\\]/.test(decoded)) {
    return missing(`${urlPath} contains a NUL or a backslash once decoded`);
  }
  if (segments.some((segment) => segment.startsWith('.'))) {
    return missing(`${urlPath} names a hidden file or folder, which the edge does not serve`);
  }
  let real: string;
  try {
    real = await realpath(join(root, ...segments));
  } catch {
    return missing(`no file ${urlPath} under the root`);
  }
  if (!real.startsWith(`${root}${sep}`)) {
    return missing(`${urlPath} leads outside the root (a symbolic link), so it is not served`);
  }
  const isFile = await stat(real).then(
    (stats) => stats.isFile(),
    () => false,
  );
  if (!isFile) return missing(`${urlPath} is not a regular file`);
  return { found: true, path: `/${segments.join('/')}` };
}
