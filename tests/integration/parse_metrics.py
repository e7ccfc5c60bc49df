#!/usr/bin/env python3
"""Reads a /metrics scrape (the file named by the first argument) with
prometheus_client's own text parser and prints it as JSON for the C++ test:
{"families": [{"name", "type", "help"}...],
 "samples": {"NAME{label=\"value\",...}": value}} with labels sorted by name.
Exits 77 (a skip for CTest) when prometheus_client is not installed, 1 when
the text does not parse or a sample appears twice."""

import json
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    print("SKIP: prometheus_client is not installed "
          "(Debian: apt-get install python3-prometheus-client; see .ci/install-deps)",
          file=sys.stderr)
    sys.exit(77)


def sample_key(sample):
    labels = ",".join('{}="{}"'.format(k, v) for k, v in sorted(sample.labels.items()))
    return "{}{{{}}}".format(sample.name, labels)


def main(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    out = {"families": [], "samples": {}}
    try:
        for family in text_string_to_metric_families(text):
            out["families"].append(
                {"name": family.name, "type": family.type, "help": family.documentation})
            for sample in family.samples:
                key = sample_key(sample)
                if key in out["samples"]:
                    print("sample {} appears twice".format(key), file=sys.stderr)
                    return 1
                out["samples"][key] = sample.value
    except ValueError as e:
        print("the scrape does not parse: {}".format(e), file=sys.stderr)
        return 1
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
