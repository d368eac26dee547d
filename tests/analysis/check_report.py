#!/usr/bin/env python3
"""Checks a `vkq analyze` report against the schema of docs/ANALYSIS.md ("Report format").

usage: check_report.py REPORT.json REPORT.csv weights|activations
Exits non-zero, naming the first problem, when the JSON or the CSV does not follow it."""
import csv
import json
import math
import sys


def fail(msg):
    sys.exit("check_report.py: " + msg)


def num(v, what, allow_null=False):
    if v is None and allow_null:
        return
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
        fail(f"{what}: {v!r} is not a finite number")


def main():
    path, csv_path, mode = sys.argv[1:4]
    with open(path) as f:
        r = json.load(f)
    acts = mode == "activations"
    if r.get("vkq_analysis") != 1:
        fail("vkq_analysis is not 1")
    m = r["model"]
    for k in ("path", "name", "architecture"):
        if not isinstance(m[k], str):
            fail(f"model.{k}")
    for k in ("n_layer", "n_embd", "n_params", "source_bytes"):
        if not isinstance(m[k], int) or m[k] < 0:
            fail(f"model.{k}")
    formats = r["formats"]
    if not formats or not all(isinstance(f, str) for f in formats):
        fail("formats")
    cal = r["calibration"]
    if acts:
        if not isinstance(cal, dict) or not isinstance(cal["tokens"], int) or cal["tokens"] < 1 or "path" not in cal:
            fail("calibration")
    elif cal is not None:
        fail("calibration should be null")
    roles = r["roles"]
    if not roles or not all(isinstance(x, str) for x in roles):
        fail("roles")
    if not r["tensors"]:
        fail("no tensors")
    for t in r["tensors"]:
        name = t["name"]
        if t["role"] not in roles or not isinstance(t["layer"], int) or t["layer"] < -1:
            fail(f"{name}: role or layer")
        if not (1 <= len(t["ne"]) <= 4) or not isinstance(t["source_type"], str):
            fail(f"{name}: ne or source_type")
        if list(t["formats"].keys()) != formats:
            fail(f"{name}: formats {list(t['formats'].keys())}")
        for fname, w in t["formats"].items():
            what = f"{name} {fname}"
            if not isinstance(w["type"], str) or not isinstance(w["bytes"], int):
                fail(what + ": type or bytes")
            for k in ("bpw", "rmse", "rel_l2", "max_abs", "cosine", "clipped_fraction"):
                num(w[k], f"{what}.{k}")
            num(w["sqnr_db"], what + ".sqnr_db", allow_null=True)  # +inf when exact
            if ("weighted_rel_l2" in w) != ("weighted_sqnr_db" in w):
                fail(what + ": weighted fields come in pairs")
            if not acts and "weighted_rel_l2" in w:
                fail(what + ": weighted fields without calibration")
    if acts:
        a = r["activations"]
        if [x["format"] for x in a] != formats:
            fail("activations: formats")
        for x in a:
            if not isinstance(x["bytes"], int):
                fail("activations bytes")
            for k in ("bpw", "kld_mean", "kld_stderr", "top1"):
                num(x[k], f"activations {x['format']}.{k}")
            for kind in ("accumulated", "isolated"):
                layers = x[kind]
                if [e["layer"] for e in layers] != list(range(m["n_layer"])):
                    fail(f"{x['format']} {kind}: layers")
                for e in layers:
                    num(e["cosine"], kind + ".cosine")
                    num(e["rel_l2"], kind + ".rel_l2")
                    num(e["sqnr_db"], kind + ".sqnr_db", allow_null=True)
    elif "activations" in r:
        fail("activations without calibration")

    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    header = ("kind,format,tensor,role,layer,type,elements,bytes,bpw,rmse,rel_l2,sqnr_db,max_abs,cosine,"
              "clipped_fraction,weighted_rel_l2,weighted_sqnr_db,kld_mean,kld_stderr,top1").split(",")
    with open(csv_path) as f:
        if f.readline().strip().split(",") != header:
            fail("CSV header")
    kinds = [row["kind"] for row in rows]
    n_weight = len(r["tensors"]) * len(formats)
    n_layer_rows = 2 * len(formats) * m["n_layer"] if acts else 0
    if kinds.count("model") != len(formats) or kinds.count("weight") != n_weight or \
            kinds.count("accumulated") + kinds.count("isolated") != n_layer_rows:
        fail(f"CSV rows: {len(rows)}")
    if any(None in row.values() or None in row for row in rows):
        fail("CSV: a row with the wrong number of fields")
    for row in rows:
        if row["kind"] == "weight":
            float(row["rel_l2"]), float(row["bpw"]), int(row["bytes"])
        elif row["kind"] in ("accumulated", "isolated"):
            float(row["rel_l2"]), float(row["cosine"]), int(row["layer"])
        elif acts:
            float(row["kld_mean"]), float(row["top1"])


if __name__ == "__main__":
    main()
