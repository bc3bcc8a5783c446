#!/usr/bin/env python3
"""Write .keras files whose model.weights.h5 was edited afterwards with h5py.

Usage:
    KERAS_BACKEND=jax python tools/keras_reference/make_h5py_edited.py \
        [--source MODEL.keras] [--out OUT_DIR] [--no-verify]

Defaults: --source tests/data/golden-models/text_dot_maskzero/model.keras,
--out tests/data/h5py_edited (relative to the repository root).

Two variants of the source archive are written into OUT_DIR:

  attribute_rewritten.keras
      model.weights.h5 opened with h5py in "r+" mode and, for every group
      carrying a `name` attribute, `g.attrs["name"] = g.attrs["name"]`
      (same value; h5py writes a temporary attribute, deletes the old one
      and renames the new one, so the object headers change).

  committed_dtype.keras
      model.weights.h5 opened with h5py in "r+" mode; a committed (named)
      datatype `/committed_float32` (little-endian IEEE float32) is created
      and the dataset `layers/dense/vars/0` is deleted and recreated with
      the same data and `dtype=f["committed_float32"]`, so its Datatype
      message is a shared message pointing at the committed datatype.

The zip members keep the source's order, names, timestamps, attributes and
compression (stored); only the bytes of model.weights.h5 change.

Then (unless --no-verify) Keras loads the source and both variants and
predicts on the source case's inputs (`query_tokens.npy`, `value_tokens.npy`
next to the source file); the predictions must be bit-identical.

Finally the object headers of every HDF5 object are parsed from the raw
bytes (a small reader of the v1/v2 object header layout, independent of
h5py) and the differences between the source weights file and each edited
one are written to OUT_DIR/object_headers.txt.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import argparse
import io
import shutil
import struct
import sys
import tempfile
import zipfile
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SOURCE = ROOT / "tests/data/golden-models/text_dot_maskzero/model.keras"
DEFAULT_OUT = ROOT / "tests/data/h5py_edited"
WEIGHTS = "model.weights.h5"
COMMITTED_TARGET = "layers/dense/vars/0"
COMMITTED_NAME = "committed_float32"


# --------------------------------------------------------------------------
# editing
# --------------------------------------------------------------------------


def edit_weights(raw, edit):
    """Write `raw` to a temporary file, open it with h5py "r+", apply `edit`."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / WEIGHTS
        path.write_bytes(raw)
        with h5py.File(path, "r+") as f:
            edit(f)
        return path.read_bytes()


def rewrite_name_attributes(f):
    rewritten = []

    def visit(name, obj):
        if isinstance(obj, h5py.Group) and "name" in obj.attrs:
            obj.attrs["name"] = obj.attrs["name"]
            rewritten.append(name)

    f.visititems(visit)
    if not rewritten:
        raise SystemExit("no group with a `name` attribute in the weights file")
    return rewritten


def commit_dtype_and_recreate(f):
    if COMMITTED_TARGET not in f:
        raise SystemExit(f"{COMMITTED_TARGET} not in the weights file")
    f[COMMITTED_NAME] = np.dtype("<f4")
    old = f[COMMITTED_TARGET][()]
    if old.dtype != np.dtype("<f4"):
        raise SystemExit(f"{COMMITTED_TARGET} is {old.dtype}, expected float32")
    del f[COMMITTED_TARGET]
    f.create_dataset(COMMITTED_TARGET, data=old, dtype=f[COMMITTED_NAME])


def rewrite_archive(source, dest, new_weights):
    """Copy `source` to `dest` member by member, replacing model.weights.h5."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == WEIGHTS:
                data = new_weights
            out = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            out.compress_type = info.compress_type
            out.create_system = info.create_system
            out.external_attr = info.external_attr
            out.comment = info.comment
            zout.writestr(out, data)


# --------------------------------------------------------------------------
# object header reader (HDF5 file format spec, "Data Object Headers")
# --------------------------------------------------------------------------

MSG_NAMES = {
    0x0000: "NIL",
    0x0001: "Dataspace",
    0x0002: "LinkInfo",
    0x0003: "Datatype",
    0x0004: "FillValueOld",
    0x0005: "FillValue",
    0x0006: "Link",
    0x0007: "ExternalFiles",
    0x0008: "Layout",
    0x0009: "Bogus",
    0x000A: "GroupInfo",
    0x000B: "FilterPipeline",
    0x000C: "Attribute",
    0x000D: "Comment",
    0x000E: "ModTimeOld",
    0x000F: "SharedMsgTable",
    0x0010: "Continuation",
    0x0011: "SymbolTable",
    0x0012: "ModTime",
    0x0013: "BTreeK",
    0x0014: "DriverInfo",
    0x0015: "AttributeInfo",
    0x0016: "RefCount",
}

FLAG_BITS = [
    "constant",
    "shared",
    "dont_share",
    "fail_if_unknown_write",
    "mark_if_unknown",
    "was_unknown",
    "shareable",
    "fail_if_unknown_always",
]

DT_CLASSES = {
    0: "fixed-point",
    1: "float",
    2: "time",
    3: "string",
    4: "bitfield",
    5: "opaque",
    6: "compound",
    7: "reference",
    8: "enum",
    9: "vlen",
    10: "array",
}


def flag_names(flags):
    names = [n for i, n in enumerate(FLAG_BITS) if flags & (1 << i)]
    return "|".join(names) if names else "-"


class Reader:
    def __init__(self, buf):
        self.buf = buf
        if buf[:8] != b"\x89HDF\r\n\x1a\n":
            raise ValueError("not an HDF5 file (no superblock at offset 0)")
        self.sb_version = buf[8]
        if self.sb_version in (0, 1):
            self.O, self.L = buf[13], buf[14]
        else:
            self.O, self.L = buf[9], buf[10]

    def uint(self, off, n):
        return int.from_bytes(self.buf[off : off + n], "little")

    def header(self, addr):
        """Return dict(version, refcount, messages=[(type, flags, size, data, block)])."""
        b = self.buf
        msgs = []
        if b[addr : addr + 4] == b"OHDR":
            version = b[addr + 4]
            hflags = b[addr + 5]
            p = addr + 6
            if hflags & 0x20:
                p += 16
            if hflags & 0x10:
                p += 4
            n = 1 << (hflags & 3)
            size0 = self.uint(p, n)
            p += n
            blocks = [(p, size0)]
            corder = bool(hflags & 0x04)
            mh = 6 if corder else 4
            refcount = 1
            bi = 0
            while bi < len(blocks):
                start, size = blocks[bi]
                q, end = start, start + size
                while q + mh <= end:
                    mtype, msize, mflags = b[q], self.uint(q + 1, 2), b[q + 3]
                    q += mh
                    data = b[q : q + msize]
                    msgs.append((mtype, mflags, msize, data, bi))
                    if mtype == 0x10:
                        off, ln = self.uint(q, self.O), self.uint(q + self.O, self.L)
                        if b[off : off + 4] != b"OCHK":
                            raise ValueError(f"no OCHK at {off}")
                        blocks.append((off + 4, ln - 8))
                    if mtype == 0x16:
                        refcount = self.uint(q + 1, 4)
                    q += msize
                bi += 1
            return dict(version=version, hflags=hflags, refcount=refcount, messages=msgs)
        version = b[addr]
        if version != 1:
            raise ValueError(f"unknown object header version {version} at {addr}")
        nmsgs = self.uint(addr + 2, 2)
        refcount = self.uint(addr + 4, 4)
        size0 = self.uint(addr + 8, 4)
        blocks = [(addr + 16, size0)]
        bi = 0
        while bi < len(blocks) and len(msgs) < nmsgs:
            start, size = blocks[bi]
            q, end = start, start + size
            while q + 8 <= end and len(msgs) < nmsgs:
                mtype, msize, mflags = self.uint(q, 2), self.uint(q + 2, 2), b[q + 4]
                q += 8
                data = b[q : q + msize]
                msgs.append((mtype, mflags, msize, data, bi))
                if mtype == 0x10:
                    blocks.append((self.uint(q, self.O), self.uint(q + self.O, self.L)))
                q += msize
            bi += 1
        return dict(version=1, hflags=None, refcount=refcount, nmsgs=nmsgs, messages=msgs)

    def describe(self, mtype, mflags, data):
        """Short human-readable content of the interesting messages."""
        if mflags & 0x02:  # shared message
            ver, stype = data[0], data[1]
            if ver == 1:
                addr = int.from_bytes(data[8 : 8 + self.O], "little")
            else:
                addr = int.from_bytes(data[2 : 2 + self.O], "little")
            kind = {0: "shared-in-heap?", 1: "SOHM heap", 2: "committed object", 3: "SOHM heap"}.get(stype, stype)
            if ver == 1 or (ver == 2 and stype in (0, 2)) or (ver == 3 and stype == 2):
                kind = "committed object"
            return f"shared message v{ver} type {stype} ({kind}) -> object header @{addr}"
        if mtype == 0x03:
            cv = data[0]
            return f"datatype v{cv >> 4} class {DT_CLASSES.get(cv & 15, cv & 15)} size {int.from_bytes(data[4:8], 'little')}"
        if mtype == 0x0C:
            ver = data[0]
            aflags = data[1] if ver >= 2 else 0
            nsz = int.from_bytes(data[2:4], "little")
            tsz = int.from_bytes(data[4:6], "little")
            if ver == 1:
                p = 8
                name = data[p : p + nsz]
                p += (nsz + 7) & ~7
            elif ver == 2:
                p = 8
                name = data[p : p + nsz]
                p += nsz
            else:
                p = 9
                name = data[p : p + nsz]
                p += nsz
            ssz = int.from_bytes(data[6:8], "little")
            dt = data[p]
            pad = (lambda n: (n + 7) & ~7) if ver == 1 else (lambda n: n)
            value = data[p + pad(tsz) + pad(ssz) :]
            enc = f" encoding {data[8]}" if ver >= 3 else ""
            name = name.rstrip(b"\0").decode(errors="replace")
            text = (
                f"attribute v{ver} flags {aflags} name {name!r}"
                f"{enc} datatype class {DT_CLASSES.get(dt & 15, dt & 15)} v{dt >> 4} (datatype {tsz} bytes)"
            )
            if dt & 15 == 9 and len(value) >= 8 + self.O:  # vlen: length, global heap id
                n = int.from_bytes(value[:4], "little")
                col = int.from_bytes(value[4 : 4 + self.O], "little")
                idx = int.from_bytes(value[4 + self.O : 8 + self.O], "little")
                text += f", value: {n} bytes in global heap collection @{col} object #{idx}"
            return text
        if mtype == 0x10:
            off = int.from_bytes(data[: self.O], "little")
            ln = int.from_bytes(data[self.O : self.O + self.L], "little")
            return f"continuation -> @{off} length {ln}"
        return ""


def global_heaps(raw):
    """Every global heap collection (GCOL) in the file, with its objects."""
    r = Reader(raw)
    lines = []
    start = 0
    while True:
        at = raw.find(b"GCOL", start)
        if at < 0:
            break
        start = at + 4
        size = r.uint(at + 8, r.L)
        lines.append(f"global heap collection @{at}, version {raw[at + 4]}, {size} bytes:")
        p = at + 8 + r.L
        while p + 8 + r.L <= at + size:
            idx, rc = r.uint(p, 2), r.uint(p + 2, 2)
            osz = r.uint(p + 8, r.L)
            if idx == 0:
                lines.append(f"    object #0 (free space) @{p}: {osz} bytes")
                break
            val = raw[p + 8 + r.L : p + 8 + r.L + osz]
            lines.append(f"    object #{idx} @{p}: refcount {rc}, {osz} bytes {val!r}")
            p += 8 + r.L + ((osz + 7) & ~7)
    return lines


def objects(raw):
    """path -> object header address for the root and every linked object."""
    out = {}
    with h5py.File(io.BytesIO(raw), "r") as f:
        out["/"] = h5py.h5o.get_info(f.id).addr

        def visit(name, obj):
            out["/" + name] = h5py.h5o.get_info(obj.id).addr

        f.visititems(visit)
    return out


def dump_headers(raw):
    r = Reader(raw)
    lines = [f"superblock v{r.sb_version}, offsets {r.O} bytes, lengths {r.L} bytes, file {len(raw)} bytes"]
    per_obj = {}
    for path, addr in sorted(objects(raw).items()):
        h = r.header(addr)
        head = f"{path} @{addr}: object header v{h['version']}, refcount {h['refcount']}"
        if "nmsgs" in h:
            head += f", {h['nmsgs']} messages"
        rows = []
        for mtype, mflags, msize, data, block in h["messages"]:
            rows.append(
                f"    [{'chunk0' if block == 0 else f'cont{block}'}] "
                f"{MSG_NAMES.get(mtype, hex(mtype)):<14} size {msize:4d} flags 0x{mflags:02x} "
                f"({flag_names(mflags)}) {r.describe(mtype, mflags, data)}".rstrip()
            )
        per_obj[path] = (head, rows)
    return lines, per_obj


def diff_headers(label, before, after):
    lines_b, objs_b = before
    lines_a, objs_a = after
    out = [f"== {label} ==", "source:  " + lines_b[0], "edited:  " + lines_a[0]]
    for path in sorted(set(objs_b) | set(objs_a)):
        b = objs_b.get(path)
        a = objs_a.get(path)
        if b is not None and a is not None and b[1] == a[1] and b[0].split(":", 1)[1] == a[0].split(":", 1)[1]:
            continue
        out.append("")
        if b is None:
            out.append(f"{path}: only in the edited file")
        else:
            out.append("source: " + b[0])
            out.extend(b[1])
        if a is None:
            out.append(f"{path}: gone from the edited file")
        else:
            out.append("edited: " + a[0])
            out.extend(a[1])
    return out


# --------------------------------------------------------------------------
# Keras check
# --------------------------------------------------------------------------


def verify(source, variants):
    import warnings

    import keras

    case_dir = source.parent
    q = case_dir / "query_tokens.npy"
    v = case_dir / "value_tokens.npy"
    inputs = [np.load(q), np.load(v)] if q.exists() and v.exists() else None
    ref_model = keras.saving.load_model(source)
    ref = None
    if inputs is not None:
        ref = ref_model.predict(inputs, verbose=0)
    results = {}
    ok = True
    for path in variants:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                model = keras.saving.load_model(path)
            except Exception as e:  # report, keep going
                results[path.name] = f"load_model raised {type(e).__name__}: {e}"
                ok = False
                continue
        msgs = sorted({str(w.message).splitlines()[0] for w in caught})
        same_w = all(
            np.array_equal(np.asarray(a), np.asarray(b))
            for a, b in zip(ref_model.get_weights(), model.get_weights())
        ) and len(ref_model.get_weights()) == len(model.get_weights())
        text = f"loads; weights {'identical' if same_w else 'DIFFER'}"
        ok &= same_w
        if inputs is not None:
            out = model.predict(inputs, verbose=0)
            same = np.array_equal(out, ref)
            ok &= same
            text += f"; predict on {q.name}/{v.name}: {'bit-identical' if same else 'DIFFERS, max |d| = %g' % np.max(np.abs(out - ref))}"
        if msgs:
            text += "; warnings: " + " / ".join(msgs)
        results[path.name] = text
    return ok, results, keras.__version__, keras.backend.backend()


# --------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--no-verify", action="store_true")
    args = ap.parse_args()

    source = args.source.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(source) as z:
        raw = z.read(WEIGHTS)

    rewritten = []
    attr_raw = edit_weights(raw, lambda f: rewritten.extend(rewrite_name_attributes(f)))
    committed_raw = edit_weights(raw, commit_dtype_and_recreate)

    a_path = args.out / "attribute_rewritten.keras"
    c_path = args.out / "committed_dtype.keras"
    rewrite_archive(source, a_path, attr_raw)
    rewrite_archive(source, c_path, committed_raw)
    print(f"wrote {a_path} ({len(rewritten)} `name` attributes rewritten)")
    print(f"wrote {c_path} ({COMMITTED_TARGET} now uses /{COMMITTED_NAME})")

    # sanity: the values read back through h5py are unchanged
    def h5_values(b):
        vals = {}
        with h5py.File(io.BytesIO(b), "r") as f:
            f.visititems(
                lambda n, o: vals.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None
            )
            attrs = {}
            f.visititems(lambda n, o: attrs.__setitem__(n, dict(o.attrs)))
        return vals, attrs

    v0, at0 = h5_values(raw)
    for label, b in (("attribute_rewritten", attr_raw), ("committed_dtype", committed_raw)):
        v1, at1 = h5_values(b)
        assert v0.keys() == v1.keys(), label
        assert all(np.array_equal(v0[k], v1[k]) and v0[k].dtype == v1[k].dtype for k in v0), label
        assert all(at0[k] == at1[k] for k in at0), label

    before = dump_headers(raw)
    report = [
        f"Object header messages that differ from the source weights file",
        f"source: {source.relative_to(ROOT) if source.is_relative_to(ROOT) else source}",
        f"h5py {h5py.__version__}, HDF5 {h5py.version.hdf5_version}",
        "(written by tools/keras_reference/make_h5py_edited.py; flags are the object header",
        " message flags byte: bit0 constant, bit1 shared, bit2 dont_share, bit3 fail_if_unknown_write,",
        " bit4 mark_if_unknown, bit5 was_unknown, bit6 shareable, bit7 fail_if_unknown_always)",
        "",
    ]
    report += diff_headers("attribute_rewritten.keras", before, dump_headers(attr_raw))
    report += [""]
    report += diff_headers("committed_dtype.keras", before, dump_headers(committed_raw))
    for label, b in (("source", raw), ("attribute_rewritten.keras", attr_raw), ("committed_dtype.keras", committed_raw)):
        report += ["", f"== global heap of {label} =="] + global_heaps(b)
    (args.out / "object_headers.txt").write_text("\n".join(report) + "\n")
    print(f"wrote {args.out / 'object_headers.txt'}")

    if not args.no_verify:
        ok, results, kv, backend = verify(source, [a_path, c_path])
        print(f"Keras {kv} ({backend} backend):")
        for k, t in results.items():
            print(f"  {k}: {t}")
        if not ok:
            sys.exit(1)


if __name__ == "__main__":
    main()
