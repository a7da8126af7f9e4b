"""A corpus of bad invocations across every command: each exits non-zero with one error line that
names the offending flag or field, never a traceback, and before any work (nothing is written).

Rows run in-process through :func:`hwsnn.cli.main` (fast); a few run as real subprocesses.
``{d}`` in an argument is the folder holding the fixture files below.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hwsnn.cli import main

GOOD_CSV = "experiment,device,x,g\n" + "".join(f"ltp,d0,{i},{(3 + i) * 1e-9}\n" for i in range(10))

FILES: dict[str, bytes] = {
    "afile": b"not a folder\n",
    "latin1.toml": b"# caf\xe9\n[task]\nepochs = 1\n",
    "utf16.toml": "[task]\nepochs = 1\n".encode("utf-16"),
    "binary.toml": b"\x00\xff\xfe\x01[task]\n",
    "syntax.toml": b"[task\nepochs = 1\n",
    "net5.toml": b"network = 5\n",
    "task_str.toml": b'task = "fast"\n',
    "synapse_list.toml": b"synapse = [1, 2]\n",
    "rules5.toml": b"rules = 5\n",
    "rules_items.toml": b"rules = [5]\n",
    "device3.toml": b"[synapse]\ndevice = 3\n",
    "crossbar_str.toml": b'[synapse]\ncrossbar = "big"\n',
    "neuron1.toml": b"neuron = 1\n",
    "homeo_bool.toml": b"homeostasis = true\n",
    "schedule_float.toml": b"schedule = 2.0\n",
    "unknown_section.toml": b"[foo]\nx = 1\n",
    "seeds_int.toml": b"[task]\nseeds = 5\n",
    "seeds_empty.toml": b"[task]\nseeds = []\n",
    "n_exc_str.toml": b'[network]\nn_exc = "many"\n',
    "n_exc_float.toml": b"[network]\nn_exc = 1.5\n",
    "dataset_bad.toml": b'[task]\ndataset = "cifar"\n',
    "devparam_bad.toml": b"[synapse.device.params]\nbogus = 1.0\n",
    "adc_neg.toml": b"[synapse.crossbar.io]\nadc_bits = -1\n",
    "n_test_big.toml": b"[task]\nn_test = 999999\n",
    "n_exc_big.toml": b"[network]\nn_exc = 5000\n",
    "devfile_bin.toml": b'[synapse.device]\nfile = "binary.json"\n',
    "devfile_missing.toml": b'[synapse.device]\nfile = "missing.json"\n',
    "devfile_field.toml": b'[synapse.device]\nfile = "gmin_str.json"\n',
    "nul.csv": b"experiment,device,x,g\nltp,d0,1,1e-9\x00\n",
    "cosim5.toml": b"cosim = 5\n",
    "core_list.toml": b"core = [1]\n",
    "cdevice_str.toml": b'device = "x"\n',
    "ccrossbar_int.toml": b"crossbar = 1\n",
    "digits2.toml": b"digits = 2\n",
    "cfoo.toml": b"[foo]\na = 1\n",
    "cfield.toml": b"[cosim]\nbogus = 1\n",
    "core_m.toml": b'[core]\nM = "x"\n',
    "cio.toml": b"[crossbar]\nio = 3\n",
    "cgmin.toml": b"[device]\ng_min = [1]\n",
    "csteps.toml": b"[cosim]\ntimesteps = 100000000\n",
    "cpreset.toml": b'[cosim]\npreset = "nope"\n',
    "binary.json": b"\xff\xfe{}",
    "syntax.json": b'{"g_min": ',
    "list.json": b"[1, 2]",
    "str.json": b'"sto"',
    "gmin_str.json": b'{"g_min": "a"}',
    "unknown.json": b'{"bogus": 1}',
    "good.csv": GOOD_CSV.encode(),
    "binary.csv": b"\xff\xfeexperiment,device,x,g\n",
    "latin1.csv": "experiment,device,x,g\nltp,d\xe9v,0,1e-9\n".encode("latin-1"),
    "short_row.csv": b"experiment,device,x,g\nltp,d0,1\n",
    "empty_value.csv": b"experiment,device,x,g\nltp,d0,,1e-9\n",
    "extra_field.csv": b"experiment,device,x,g\nltp,d0,1,1e-9,7\n",
    "no_g.csv": b"experiment,device,x\nltp,d0,1\n",
    "empty.csv": b"",
    "header_only.csv": b"experiment,device,x,g\n",
    "x_text.csv": b"experiment,device,x,g\nltp,d0,one,1e-9\n",
    "g_text.csv": b"experiment,device,x,g\nltp,d0,1,big\n",
    "unknown_exp.csv": b"experiment,device,x,g\nwarp,d0,1,1e-9\n",
    "g_inf.csv": b"experiment,device,x,g\nltp,d0,1,inf\n",
    "x_inf.csv": b"experiment,device,x,g\nltp,d0,inf,1e-9\n",
    "x_frac.csv": b"experiment,device,x,g\n" + b"".join(b"ltp,d0,%d.5,%de-9\n" % (i, i + 3) for i in range(5)),
    "x_neg.csv": b"experiment,device,x,g\nretention,d0,-1,1e-9\n",
    "g_neg.csv": b"experiment,device,x,g\nltp,d0,0,-1e-9\n",
    "gmax_huge.json": b'{"g_max": 1e300}',
}

PROC = "/proc/hwsnn-cannot-exist/out"

# (argv, substring the one error line must contain)
CASES: list[tuple[list[str], str]] = []


def case(expect: str, *argv: str) -> None:
    CASES.append((list(argv), expect))


# -- an --out that cannot be created, or is a file, in every command that writes -------------------
WRITERS = [
    ["run"],
    ["device", "curve"],
    ["device", "fit", "{d}/good.csv"],
    ["rtl", "verify", "--unit", "lfsr16"],
    ["rtl", "report", "--unit", "lfsr16"],
    ["rtl", "generate", "--unit", "lfsr16"],
    ["cosim"],
    ["bench", "devices", "--quick"],
]
for w in WRITERS:
    case("--out", *w, "--out", PROC)
    case("--out", *w, "--out", "{d}/afile")
    case("--out", *w, "--out", "{d}/afile/sub")
    case("--out", *w, "--out", "")

# -- config files: not UTF-8, missing, not TOML/JSON, wrong shape ------------------------------------
for f in ("latin1.toml", "utf16.toml", "binary.toml"):
    case("UTF-8", "run", "{d}/" + f)
    case("UTF-8", "cosim", "{d}/" + f)
case("UTF-8", "device", "info", "--params", "{d}/binary.json")
case("UTF-8", "device", "curve", "--params", "{d}/binary.json")
case("UTF-8", "device", "fit", "{d}/binary.csv")
case("UTF-8", "device", "fit", "{d}/latin1.csv")
case("config", "run", "{d}/missing.toml")
case("config", "run", "{d}")
case("CONFIG", "cosim", "{d}/missing.toml")
case("CONFIG", "cosim", "{d}")
case("DATA", "device", "fit", "{d}/missing.csv")
case("DATA", "device", "fit", "{d}")
case("--params", "device", "info", "--params", "{d}/missing.json")
case("config", "run", "mnist999")
case("valid TOML", "run", "{d}/syntax.toml")
case("valid TOML", "cosim", "{d}/syntax.toml")
case("valid JSON", "device", "info", "--params", "{d}/syntax.json")
for f, field in [("net5.toml", "network"), ("task_str.toml", "task"), ("synapse_list.toml", "synapse"),
                 ("rules5.toml", "rules"), ("rules_items.toml", "rules[0]"), ("device3.toml", "synapse.device"),
                 ("crossbar_str.toml", "synapse.crossbar"), ("neuron1.toml", "neuron"),
                 ("homeo_bool.toml", "homeostasis"), ("schedule_float.toml", "schedule"), ("unknown_section.toml", "foo"),
                 ("seeds_int.toml", "task.seeds"), ("seeds_empty.toml", "task.seeds"), ("n_exc_str.toml", "network.n_exc"),
                 ("n_exc_float.toml", "network.n_exc"), ("dataset_bad.toml", "task.dataset"),
                 ("devparam_bad.toml", "synapse.device.params.bogus"), ("adc_neg.toml", "synapse.crossbar.io.adc_bits"),
                 ("n_test_big.toml", "task.n_test"), ("n_exc_big.toml", "network.n_exc")]:
    case(field, "run", "{d}/" + f)
    if f in ("net5.toml", "devparam_bad.toml", "n_test_big.toml"):
        case(field, "run", "{d}/" + f, "--print-config")
for f, field in [("devfile_bin.toml", "synapse.device"), ("devfile_missing.toml", "synapse.device.file"),
                 ("devfile_field.toml", "g_min")]:
    case(field, "run", "{d}/" + f)
for f, field in [("cosim5.toml", "cosim"), ("core_list.toml", "core"), ("cdevice_str.toml", "device"),
                 ("ccrossbar_int.toml", "crossbar"), ("digits2.toml", "digits"), ("cfoo.toml", "foo"),
                 ("cfield.toml", "cosim.bogus"), ("core_m.toml", "core.M"), ("cio.toml", "crossbar.io"),
                 ("cgmin.toml", "device.g_min"), ("csteps.toml", "cosim.timesteps"), ("cpreset.toml", "cosim.preset")]:
    case(field, "cosim", "{d}/" + f)
for f, field in [("list.json", "--params"), ("str.json", "--params"), ("gmin_str.json", "g_min"),
                 ("unknown.json", "bogus")]:
    case(field, "device", "info", "--params", "{d}/" + f)
case("g_min", "device", "curve", "--params", "{d}/gmin_str.json")
for a, field in [("network=5", "network"), ("synapse=3", "synapse"), ("task.seeds=5", "task.seeds"),
                 ("bogus.x=1", "bogus"), ("synapse.device.params.bogus=1", "synapse.device.params.bogus"),
                 ("synapse.crossbar.io.adc_bits=-1", "synapse.crossbar.io.adc_bits"),
                 ("synapse.crossbar.bogus=1", "synapse.crossbar.bogus"), ("task.n_test=999999", "task.n_test"),
                 ("synapse.device.params.g_min=-1", "synapse.device.params.g_min")]:
    case(field, "run", "--set", a)

# -- CSV rows with missing or bad fields (device fit) ------------------------------------------------
for f, field in [("short_row.csv", "'g'"), ("empty_value.csv", "'x'"), ("extra_field.csv", "5 fields"),
                 ("no_g.csv", "'g'"), ("empty.csv", "empty"), ("header_only.csv", "no data rows"),
                 ("x_text.csv", "x"), ("g_text.csv", "g"), ("unknown_exp.csv", "experiment"), ("g_inf.csv", "g"),
                 ("nul.csv", "g")]:
    case(field, "device", "fit", "{d}/" + f)
# x is a whole number of pulses (ltp/ltd) or repeats (read), >= 0; a conductance is >= 0 S
for f in ("x_inf.csv", "x_frac.csv", "x_neg.csv"):
    case(": x:", "device", "fit", "{d}/" + f)
case(": g:", "device", "fit", "{d}/g_neg.csv")
case("g_max", "device", "curve", "--params", "{d}/gmax_huge.json")  # 1e300 S: NaN downstream, not a device
case("--base", "device", "fit", "{d}/good.csv", "--base", "bogus")

# -- values checked against the dataset before training, no silent clipping -------------------------
case("--n-exc", "run", "--n-exc", "5000")
case("--n-exc", "run", "--n-exc", "1298")  # one more neuron than digits' 1,297 training samples: no k-means
case("--n-train", "run", "--n-train", "999999")
case("--n-train", "run", "--n-train", "1298")
case("--n-test", "run", "--n-test", "999999")
case("--n-test", "run", "--n-test", "501")
case("--n-test", "run", "--dataset", "mnist", "--n-test", "2001")
case("--n-test", "run", "--n-test", "999999", "--print-config")
case("--n-exc", "run", "--n-exc", "0")
case("--n-exc", "run", "--n-exc", "-1")
case("--n-exc", "run", "--n-exc", "abc")
case("--n-exc", "run", "--n-exc", "100001")
case("--n-exc", "run", "--n-exc", "50000", "--dataset", "mnist", "--set", "task.kmeans=false")
case("--epochs", "run", "--epochs", "1001")
case("--epochs", "run", "--epochs", "-1")
case("--epochs", "run", "--epochs", "1.5")
case("--seed", "run", "--seed", "-1")
case("--seed", "run", "--seed", "1", "--seed", "1")
case("--seed", "run", "--seed", "99999999999")
case("--n-train", "run", "--n-train", "-5")
case("--n-test", "run", "--n-test", "1.5")
case("--synapse", "run", "--synapse", "bogus")
case("--dataset", "run", "--dataset", "cifar")
case("--baseline", "run", "--baseline", "bogus")
case("PATH=VALUE", "run", "--set", "noequals")

# -- unbounded sizes: refused by the parser with the bound ----------------------------------------------
case("--devices", "device", "curve", "--devices", "10000000")
case("--devices", "device", "curve", "--devices", "0")
case("--devices", "device", "curve", "--devices", "1e9")
case("--devices", "device", "curve", "--devices", "2.5")
case("--interval", "device", "curve", "--interval", "-1")
case("--interval", "device", "curve", "--interval", "nan")
case("--interval", "device", "curve", "--interval", "inf")
case("--interval", "device", "curve", "--interval", "1e9")
case("--seed", "device", "curve", "--seed", "-3")
case("--interval", "device", "curve", "--interval", "-0")
case("--interval", "device", "curve", "--interval", "0")
case("--cycles", "rtl", "verify", "--cycles", "1e9")
case("--cycles", "rtl", "verify", "--cycles", "1000000000")
case("--cycles", "rtl", "verify", "--cycles", "0")
case("--cycles", "rtl", "verify", "--cycles", "many")
case("--seed", "rtl", "verify", "--seed", "-1")
case("--timesteps", "cosim", "--timesteps", "1e9")
case("--timesteps", "cosim", "--timesteps", "0")
case("--seed", "cosim", "--seed", "-1")

# -- unknown names -------------------------------------------------------------------------------------
case("--preset", "device", "info", "--preset", "bogus")
case("--preset", "device", "curve", "--preset", "bogus")
case("--preset", "cosim", "--preset", "bogus")
case("--sim", "cosim", "--sim", "bogus")
case("--sim", "rtl", "verify", "--sim", "bogus")
case("--unit", "rtl", "verify", "--unit", "bogus")
case("--unit", "rtl", "report", "--unit", "bogus")
case("--unit", "rtl", "generate", "--unit", "bogus")
case("suite", "bench", "bogus")
case("--task", "cosim", "--task", "bogus")
case("frobnicate", "frobnicate")
case("bogus", "device", "bogus")
case("--bogus", "run", "--bogus")
case("--wave", "cosim", "--wave", "gif")

# -- the committed benchmark results are not overwritten unless asked ---------------------------------
case("--out", "bench", "devices", "--quick", "--out", str(Path(__file__).resolve().parents[2] / "benchmarks" / "results"))
case("--update-committed", "bench", "devices", "--quick", "--update-committed", "--out", "{d}/x")


# -- the seed-method commands and the sweep family ------------------------------------------------
case("--mode", "stl", "train", "--mode", "xx")
case("--epochs", "stl", "train", "--epochs", "0")
case("train.lr", "stl", "train", "--set", "train.lr=-1")
case("nosuch", "stl", "train", "--set", "nosuch.field=1")
case("config", "stl", "train", "{d}/missing.toml")
case("RUN_DIR", "stl", "deploy", "{d}/missing-run")
case("RUN_DIR", "stl", "export", "{d}/missing-run", "--nir", "{d}/x.nir")
case("config", "pdlf", "evolve", "nosuchpreset")
case("--workers", "pdlf", "evolve", "--workers", "-1")
case("network.n_exc", "ecg", "run", "--set", "network.n_exc=0")
case("config", "ecg", "run", "nosuchpreset")
case("data.record", "ecg", "run", "--set", "data.source=wfdb")
case("config", "sweep", "nosuch")
case("--out", "sweep", "weight_levels", "--out", "{d}/afile")
case("--out", "sweep", "weight_levels", "--out", PROC)
for flag, v in (("--workers", "-1"), ("--workers", "100000"), ("--threads", "0"), ("--threads", "-1"),
                ("--dask-local", "0"), ("--dask-local", "100000")):
    case(flag, "sweep", "weight_levels", flag, v, "--dry-run")
    case(flag, "compare", flag, v, "--dry-run")
case("--workers", "pdlf", "evolve", "--workers", "1000000")
case("--dask-local", "pdlf", "evolve", "--dask-local", "0")
case("repeats", "compare", "--repeats", "0")
case("not a sweep results folder", "plot", "{d}/missing-run")


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad_inputs")
    for name, data in FILES.items():
        (root / name).write_bytes(data)
    return root


def _ids():
    return [" ".join(a).replace("{d}/", "")[:60] for a, _ in CASES]


def test_corpus_is_large_and_covers_every_command():
    assert len(CASES) >= 100
    commands = {a[0] for a, _ in CASES}
    assert {"run", "device", "rtl", "cosim", "bench", "stl", "pdlf", "ecg", "sweep", "compare", "plot"} <= commands
    assert {a[1] for a, _ in CASES if a[0] == "device"} >= {"info", "curve", "fit"}
    assert {a[1] for a, _ in CASES if a[0] == "rtl"} >= {"verify", "report", "generate"}


@pytest.mark.parametrize(("argv", "expect"), CASES, ids=_ids())
def test_bad_invocation_gives_one_error_line(argv, expect, d, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # default output folders (runs/, results/) would land here
    argv = [a.replace("{d}", str(d)) for a in argv]
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc != 0, f"accepted: {argv}\n{out}\n{err}"
    assert "Traceback" not in out + err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error:" in ln]
    assert len(errors) == 1 and all("error:" in ln or ": warning:" in ln or ": note:" in ln for ln in lines), err
    assert expect in errors[0], f"{errors[0]!r} does not name {expect!r}"
    # nothing was started: no default output folder appeared, no folder under the fixture files
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    assert sorted(p.name for p in d.iterdir()) == sorted(FILES)


def test_failed_validation_leaves_a_previous_result_intact(tmp_path, capsys):
    from hwsnn.io import RunFolder, check_run_folder, write_json

    out = tmp_path / "res"
    with RunFolder(out):
        write_json(out / "metrics.json", {"accuracy": 0.9})
    assert main(["run", "--n-test", "999999", "--out", str(out)]) == 2
    assert main(["device", "curve", "--devices", "0", "--out", str(out)]) == 2
    assert check_run_folder(out) == []
    capsys.readouterr()


@pytest.mark.parametrize("argv", [
    ["device", "info", "--params", "{d}/binary.json"],
    ["device", "fit", "{d}/binary.csv"],
    ["cosim", "{d}/net5.toml"],
    ["rtl", "verify", "--cycles", "1e9"],
])
def test_bad_invocation_subprocess(argv, d):
    argv = [a.replace("{d}", str(d)) for a in argv]
    r = subprocess.run([sys.executable, "-m", "hwsnn", *argv], capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "Traceback" not in r.stdout + r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
