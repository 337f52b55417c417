#!/usr/bin/env python3
"""Generate golden CloudFront signed-URL vectors for cfsign's tests.

The vectors in test/vectors/botocore.json come from tools that share no code
with cfsign:

  * botocore's CloudFrontSigner builds the policies, does CloudFront's URL-safe
    base64 and assembles the signed URL;
  * the `cryptography` package does the RSA PKCS#1 v1.5 (SHA-1 / SHA-256) and
    ECDSA P-256 (SHA-256, DER) signing;
  * urllib.parse.quote(key, safe='/') percent-encodes the object keys.

The exact botocore, cryptography and Python versions that made the file are
written to its top-level "generator" field (first made with botocore 1.43.11
and cryptography 48.0.0).

RSA PKCS#1 v1.5 is deterministic, so RSA vectors are byte-for-byte
reproducible. ECDSA signatures are randomised, so ECDSA "signedUrl" values
change on every run; tests must verify them with the public key rather than
compare them.

SHA-256 vectors get "&Hash-Algorithm=SHA256" appended after the URL botocore
returns (botocore itself only knows SHA-1).

Rerun from the repository root:

    python3 scripts/make-vectors.py

It overwrites test/vectors/botocore.json, then reads the file back and checks
every vector (signature verified with the fixture's public key, CloudFront
base64 alphabet, policy round trip) before printing a one-line summary.
"""

import base64
import json
import platform
import re
import sys
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qsl, quote

import botocore
import cryptography
from botocore.signers import CloudFrontSigner
from botocore.utils import datetime2timestamp
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

ROOT = Path(__file__).resolve().parent.parent
KEYS_DIR = ROOT / "test" / "fixtures" / "keys"
OUT = ROOT / "test" / "vectors" / "botocore.json"

BASE = "https://d111111abcdef8.cloudfront.net"
RSA_KEY = "rsa-2048.pkcs8.pem"
EC_KEY = "ec-p256.pkcs8.pem"
KEY_PAIR_IDS = {RSA_KEY: "K2JCJMDEHXQW5F", EC_KEY: "K3ECDSAP256KEY"}

EXPIRES = 1767225600  # 2026-01-01T00:00:00Z
EXPIRES_LATER = 1798761600  # 2027-01-01T00:00:00Z
NOT_BEFORE = 1767139200  # 2025-12-31T00:00:00Z


def long_ascii_key(length=1024):
    """A deterministic object key cycling through printable ASCII (0x20-0x7e)."""
    printable = "".join(chr(c) for c in range(0x20, 0x7F))
    return (printable * (length // len(printable) + 1))[:length]


# short description -> raw object key (the description becomes the vector name)
OBJECT_KEYS = {
    "plain": "videos/a.mp4",
    "space": "dir/a b.mp4",
    "non-ascii": "\u00fcn\u00ef/\u00e7\u00f6d\u00e9.txt",
    "question and hash": "q?x#y.txt",
    "percent": "100%.txt",
    "plus equals ampersand": "x+y=z&w.txt",
    "star and question": "star*and?question.txt",
    "unreserved": "tilde~under_score-dash.dot",
    "emoji": "emoji/\U0001F3AC.mp4",
    "sub-delims": "sub-delims/!$'()*,;:@.txt",
    "NFC e-acute": "nfc/caf\u00e9.txt",  # U+00E9
    "NFD e-acute": "nfd/cafe\u0301.txt",  # e + U+0301 combining acute
    "1024-byte ascii": long_ascii_key(),
}
CANNED_RSA_SHA1 = list(OBJECT_KEYS)
CANNED_RSA_SHA256 = ["plain", "space", "emoji"]
CANNED_EC = ["plain", "non-ascii", "question and hash"]

# description -> (object key, resource, expiresAt, notBefore, ipAddress)
CUSTOM_CASES = {
    "wildcard": ("videos/a.mp4", BASE + "/videos/*", EXPIRES, None, None),
    "question-mark wildcard": ("videos/a1.mp4", BASE + "/videos/a?.mp4", EXPIRES, None, None),
    "not-before": ("videos/a.mp4", BASE + "/videos/a.mp4", EXPIRES, NOT_BEFORE, None),
    "ip cidr": ("videos/a.mp4", BASE + "/videos/*", EXPIRES, None, "203.0.113.0/24"),
    "single ip gets /32": ("videos/a.mp4", BASE + "/videos/*", EXPIRES, None, "192.0.2.10"),
    "all conditions": ("dir/a b.mp4", BASE + "/*", EXPIRES_LATER, NOT_BEFORE, "203.0.113.0/24"),
    "resource equals url": ("dir/a b.mp4", BASE + "/dir/a%20b.mp4", EXPIRES, None, None),
    "ip and not-before": (
        "videos/a.mp4", BASE + "/videos/*", EXPIRES, NOT_BEFORE, "203.0.113.0/24"),
}
CUSTOM_RSA_SHA1 = [case for case in CUSTOM_CASES if case != "ip and not-before"]
CUSTOM_RSA_SHA256 = ["wildcard", "all conditions"]
CUSTOM_EC = ["wildcard", "ip and not-before"]


def load_private_key(name):
    return serialization.load_pem_private_key((KEYS_DIR / name).read_bytes(), password=None)


def utc(epoch):
    """A timezone-aware UTC datetime that botocore turns back into exactly `epoch`."""
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    assert datetime2timestamp(moment) == epoch, (epoch, datetime2timestamp(moment))
    return moment


def url_for(object_key):
    return BASE + "/" + quote(object_key, safe="/")


def make_signer(key_name, hash_name):
    """A botocore CloudFrontSigner plus a list recording every message it signed."""
    key = load_private_key(key_name)
    algorithm = {"sha1": hashes.SHA1(), "sha256": hashes.SHA256()}[hash_name]
    signed = []

    def sign(message):
        signed.append(message)
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(message, padding.PKCS1v15(), algorithm)
        assert hash_name == "sha256", "ECDSA vectors are always SHA-256"
        return key.sign(message, ec.ECDSA(algorithm))

    return CloudFrontSigner(KEY_PAIR_IDS[key_name], sign), signed


def make_vector(name, key_name, hash_name, url, expires_at, object_key=None,
                custom=False, resource=None, not_before=None, ip_address=None):
    signer, signed = make_signer(key_name, hash_name)
    vector = {"name": name, "key": key_name, "keyPairId": KEY_PAIR_IDS[key_name],
              "hash": hash_name}
    if object_key is not None:
        vector["objectKey"] = object_key
    vector["url"] = url
    vector["expiresAt"] = expires_at
    if custom:
        policy = signer.build_policy(
            resource,
            utc(expires_at),
            date_greater_than=utc(not_before) if not_before is not None else None,
            ip_address=ip_address,
        )
        signed_url = signer.generate_presigned_url(url, policy=policy)
        if not_before is not None:
            vector["notBefore"] = not_before
        if ip_address is not None:
            vector["ipAddress"] = ip_address
        vector["resource"] = resource
    else:
        signed_url = signer.generate_presigned_url(url, date_less_than=utc(expires_at))
    assert len(signed) == 1
    if hash_name == "sha256":
        signed_url += "&Hash-Algorithm=SHA256"
    vector["policyType"] = "custom" if custom else "canned"
    vector["policy"] = signed[0].decode("utf-8")
    vector["signedUrl"] = signed_url
    return vector


def build_vectors():
    specs = []  # (label, kwargs) in a fixed order; numbered afterwards

    def canned(alg, key_name, hash_name, case, expires_at):
        object_key = OBJECT_KEYS[case]
        specs.append((f"canned {alg} {hash_name} {case}", dict(
            key_name=key_name, hash_name=hash_name, url=url_for(object_key),
            object_key=object_key, expires_at=expires_at)))

    def custom(alg, key_name, hash_name, case):
        object_key, resource, expires_at, not_before, ip_address = CUSTOM_CASES[case]
        specs.append((f"custom {alg} {hash_name} {case}", dict(
            key_name=key_name, hash_name=hash_name, url=url_for(object_key),
            object_key=object_key, expires_at=expires_at, custom=True,
            resource=resource, not_before=not_before, ip_address=ip_address)))

    for case in CANNED_RSA_SHA1:
        canned("rsa", RSA_KEY, "sha1", case, EXPIRES)
    specs.append(("canned rsa sha1 url with query", dict(
        key_name=RSA_KEY, hash_name="sha1", url=BASE + "/videos/a.mp4?quality=hd&lang=en",
        expires_at=EXPIRES)))
    for case in CANNED_RSA_SHA256:
        canned("rsa", RSA_KEY, "sha256", case, EXPIRES_LATER)
    for case in CUSTOM_RSA_SHA1:
        custom("rsa", RSA_KEY, "sha1", case)
    for case in CUSTOM_RSA_SHA256:
        custom("rsa", RSA_KEY, "sha256", case)
    for case in CANNED_EC:
        canned("ecdsa-p256", EC_KEY, "sha256", case, EXPIRES)
    for case in CUSTOM_EC:
        custom("ecdsa-p256", EC_KEY, "sha256", case)

    vectors = [make_vector(f"{number:02d} {label}", **kwargs)
               for number, (label, kwargs) in enumerate(specs, start=1)]
    names = [v["name"] for v in vectors]
    assert len(set(names)) == len(names), "vector names must be unique"
    return vectors


# --- read-back checks -------------------------------------------------------

CF_B64 = re.compile(r"^[A-Za-z0-9~_-]+$")


def cf_b64decode(text):
    return base64.b64decode(text.replace("-", "+").replace("_", "=").replace("~", "/"),
                            validate=True)


def public_key(key_name):
    """The fixture's separate public-key file, e.g. rsa-2048.public.pem."""
    public_name = key_name.replace(".pkcs8.pem", ".public.pem")
    return serialization.load_pem_public_key((KEYS_DIR / public_name).read_bytes())


def check_vector(v):
    url, signed_url = v["url"], v["signedUrl"]
    if "objectKey" in v:
        assert url == url_for(v["objectKey"]), v["name"]
    assert signed_url.startswith(url + ("&" if "?" in url else "?")), v["name"]
    params = parse_qsl(signed_url[len(url) + 1:], keep_blank_values=True)
    names = [k for k, _ in params]
    first = "Policy" if v["policyType"] == "custom" else "Expires"
    expected = [first, "Signature", "Key-Pair-Id"]
    if v["hash"] == "sha256":
        expected.append("Hash-Algorithm")
    assert names == expected, (v["name"], names)
    query = dict(params)
    assert query["Key-Pair-Id"] == v["keyPairId"]

    policy = v["policy"].encode("utf-8")
    statement = json.loads(policy)["Statement"]
    assert len(statement) == 1
    condition = statement[0]["Condition"]
    assert condition["DateLessThan"] == {"AWS:EpochTime": v["expiresAt"]}
    if v["policyType"] == "canned":
        assert query["Expires"] == str(v["expiresAt"])
        canned = ('{"Statement":[{"Resource":%s,"Condition":{"DateLessThan":'
                  '{"AWS:EpochTime":%d}}}]}' % (json.dumps(url), v["expiresAt"]))
        assert v["policy"] == canned, v["name"]
    else:
        assert CF_B64.match(query["Policy"]), v["name"]
        assert cf_b64decode(query["Policy"]) == policy, v["name"]
        assert statement[0]["Resource"] == v["resource"]
        if "notBefore" in v:
            assert condition["DateGreaterThan"] == {"AWS:EpochTime": v["notBefore"]}
        if "ipAddress" in v:
            ip = v["ipAddress"] if "/" in v["ipAddress"] else v["ipAddress"] + "/32"
            assert condition["IpAddress"] == {"AWS:SourceIp": ip}
        assert len(condition) == 1 + ("notBefore" in v) + ("ipAddress" in v)

    assert CF_B64.match(query["Signature"]), v["name"]
    signature = cf_b64decode(query["Signature"])
    algorithm = {"sha1": hashes.SHA1(), "sha256": hashes.SHA256()}[v["hash"]]
    key = public_key(v["key"])
    if isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, policy, padding.PKCS1v15(), algorithm)
    else:
        key.verify(signature, policy, ec.ECDSA(algorithm))  # raises if invalid
    return v["policyType"], v["key"], v["hash"]


def check_file(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    counts = {}
    for v in data["vectors"]:
        kind = check_vector(v)
        counts[kind] = counts.get(kind, 0) + 1
    summary = ", ".join(f"{t} {k.split('.')[0]} {h}: {n}"
                        for (t, k, h), n in sorted(counts.items()))
    print(f"{path.relative_to(ROOT)}: {len(data['vectors'])} vectors verified ({summary})")


def main():
    data = {
        "generator": {
            "script": "scripts/make-vectors.py",
            "botocore": botocore.__version__,
            "cryptography": cryptography.__version__,
            "python": platform.python_version(),
        },
        "vectors": build_vectors(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    # ensure_ascii keeps the file pure ASCII, so NFC vs NFD keys stay visibly
    # different (\u00e9 vs e\u0301) and no editor can renormalise them.
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True) + "\n"
    OUT.write_text(text, encoding="utf-8")
    check_file(OUT)


if __name__ == "__main__":
    sys.exit(main())
