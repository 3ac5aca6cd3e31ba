#!/usr/bin/env python3
"""Drops the per-build fields from the image config inside a docker-archive, in place.

buildah's docker-format config records the ID of its throw-away working container ("container")
and that container's random hostname. Both say nothing about the image, but they enter the
config's digest, which is the image ID. Everything else (layers, timestamps via --timestamp 0)
is already deterministic, so removing them makes two builds of the same inputs one image ID.
"""
import hashlib
import io
import json
import sys
import tarfile

path = sys.argv[1]
with tarfile.open(path) as t:
    members = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers()]
files = {m.name: data for m, data in members}
manifest = json.loads(files["manifest.json"])
if len(manifest) != 1:
    sys.exit("normalize-archive: expected one image in %s" % path)
old_name = manifest[0]["Config"]
config = json.loads(files[old_name])
config.pop("container", None)
for key in ("config", "container_config"):
    if isinstance(config.get(key), dict):
        config[key]["Hostname"] = ""
config.pop("container_config", None)
new_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
new_name = hashlib.sha256(new_bytes).hexdigest() + ".json"
manifest[0]["Config"] = new_name

out = io.BytesIO()
with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as t:
    def add(name, data):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mtime = 0
        info.mode = 0o644
        t.addfile(info, io.BytesIO(data))
    for m, data in members:
        if m.name in (old_name, "manifest.json"):
            continue
        if m.isfile():
            add(m.name, data)
        else:
            t.addfile(m)
    add(new_name, new_bytes)
    add("manifest.json", json.dumps(manifest, separators=(",", ":")).encode())
with open(path, "wb") as f:
    f.write(out.getvalue())
