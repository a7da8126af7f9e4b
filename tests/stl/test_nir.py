"""NIR export / import round trips (identical spikes), the float-engine mapping, the threshold
convention, and the refusal of what the STL network cannot represent."""

from __future__ import annotations

import numpy as np
import pytest

from hwsnn.errors import ConfigError
from hwsnn.stl.model import Layer, ModelParams, STLParams, encode, forward, init_params
from hwsnn.stl.nir_io import engine_forward, from_engine, from_nir, read_nir, to_engine, to_nir, write_nir

nir = pytest.importorskip("nir")


def _dyadic(p):
    return p._replace(layers=tuple(Layer(w=np.round(l.w * 256) / 256, theta=l.theta) for l in p.layers))


@pytest.fixture(scope="module")
def case():
    p = init_params(ModelParams(n_hidden=20, population=2, w_init=4.0, theta_init=0.7, theta_spread=0.2), 16, 3, 1)
    r = encode(np.random.default_rng(0).random((6, 16)), 6, 0, 0, np.arange(6))
    return p, r


def _same(a, b):
    return all(np.array_equal(x.w, y.w) and np.array_equal(x.theta, y.theta) for x, y in zip(a.layers, b.layers)) \
        and a.decay == b.decay and a.population == b.population


def test_file_round_trip_gives_identical_spikes(case, tmp_path):
    p, r = case
    write_nir(p, tmp_path / "net.nir", dt=1e-3)
    q = read_nir(tmp_path / "net.nir")
    assert _same(p, q)
    a, b = forward(p, r), forward(q, r)
    assert 0.05 < a.spikes[-1].mean() < 0.95
    for x, y in zip(a.spikes, b.spikes):
        np.testing.assert_array_equal(x, y)


def test_graph_follows_nir_semantics(case):
    p, _ = case
    g = to_nir(p, dt=2e-3)
    lif = g.nodes["lif0"]
    dt = 2e-3
    np.testing.assert_allclose(1 - dt / lif.tau, p.decay)  # Euler decay
    np.testing.assert_allclose(dt * lif.r / lif.tau, 1.0)  # unit input gain
    np.testing.assert_array_equal(g.nodes["fc0"].weight, p.layers[0].w.T)
    # NIR fires on v > v_threshold; the STL neuron on m >= theta: the same set of floats
    th = p.layers[0].theta
    for m in (th, np.nextafter(th, -np.inf), np.nextafter(th, np.inf)):
        np.testing.assert_array_equal(m > lif.v_threshold, m >= th)


def test_engine_round_trip_gives_identical_spikes(case):
    p, r = case
    p = _dyadic(p)
    eng = to_engine(from_nir(to_nir(p)))
    got = engine_forward(eng, r)
    want = forward(p, r).spikes
    for x, y in zip(got, want):
        np.testing.assert_array_equal(x, y)
    assert _same(from_engine(eng), p)


def test_engine_threshold_tie(case):
    # membrane exactly at threshold spikes on the engine too (>=, no float slack)
    p = STLParams(layers=(Layer(w=np.array([[1.0]]), theta=np.array([1.5])),), decay=0.5, population=1)
    got = engine_forward(to_engine(p), np.ones((4, 1, 1)))[0]
    np.testing.assert_array_equal(got[:, 0, 0], [0, 1, 0, 1])


def _lif(n, **kw):
    f = dict(tau=np.full(n, 2e-3), r=np.full(n, 2.0), v_leak=np.zeros(n), v_threshold=np.ones(n),
             v_reset=np.zeros(n))
    f.update(kw)
    return nir.LIF(**f)


def _graph(nodes, edges, **meta):
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata={"dt": 1e-3, **meta}, type_check=False)


def _chain(mid):
    nodes = {"input": nir.Input(input_type={"input": np.array([3])}), **mid,
             "output": nir.Output(output_type={"output": np.array([2])})}
    names = ["input", *mid, "output"]
    return _graph(nodes, list(zip(names, names[1:])))


W = np.ones((2, 3)) * 0.5


@pytest.mark.parametrize("mid,field,what", [
    ({"fc": nir.Affine(weight=W, bias=np.array([0.1, 0.0])), "lif": _lif(2)}, "nodes.fc.bias", "bias"),
    ({"fc": nir.Linear(weight=W), "lif": _lif(2, v_leak=np.full(2, 0.1))}, "nodes.lif.v_leak", "leak"),
    ({"fc": nir.Linear(weight=W), "lif": _lif(2, v_reset=np.full(2, -1.0))}, "nodes.lif.v_reset", "reset"),
    ({"fc": nir.Linear(weight=W), "lif": _lif(2, r=np.full(2, 3.0))}, "nodes.lif.r", "gain"),
    ({"fc": nir.Linear(weight=W), "lif": _lif(2, tau=np.array([2e-3, 3e-3]))}, "nodes.lif.tau", "per-neuron"),
    ({"fc": nir.Linear(weight=W), "lif": nir.CubaLIF(tau_syn=np.ones(2), tau_mem=np.ones(2), r=np.ones(2),
                                                     v_leak=np.zeros(2), v_threshold=np.ones(2))},
     "nodes.lif", "current-based synapse"),
    ({"fc": nir.Linear(weight=W), "lif": nir.IF(r=np.ones(2), v_threshold=np.ones(2))}, "nodes.lif", "without leak"),
    ({"fc": nir.Linear(weight=W)}, "nodes", "expected input"),
    ({"lif": _lif(3), "fc": nir.Linear(weight=W)}, "nodes", "expected input"),
])
def test_unrepresentable_graphs_are_refused(mid, field, what):
    with pytest.raises(ConfigError, match=what) as e:
        from_nir(_chain(mid))
    assert e.value.field == field


def test_branches_cycles_and_strays_are_refused():
    inp = nir.Input(input_type={"input": np.array([3])})
    out = nir.Output(output_type={"output": np.array([2])})
    nodes = {"input": inp, "fc": nir.Linear(weight=W), "lif": _lif(2), "fc2": nir.Linear(weight=W), "output": out}
    with pytest.raises(ConfigError, match="outgoing edges"):
        from_nir(_graph(nodes, [("input", "fc"), ("input", "fc2"), ("fc", "lif"), ("lif", "output")]))
    cyc = {"input": inp, "fc": nir.Linear(weight=np.ones((2, 2))), "lif": _lif(2), "output": out}
    with pytest.raises(ConfigError, match="outgoing edges|incoming edges|cycle"):
        from_nir(_graph(cyc, [("input", "fc"), ("fc", "lif"), ("lif", "fc"), ("lif", "output")]))
    with pytest.raises(ConfigError, match="not on the chain"):
        from_nir(_graph(nodes, [("input", "fc"), ("fc", "lif"), ("lif", "output")]))
    with pytest.raises(ConfigError, match="metadata.dt"):
        from_nir(nir.NIRGraph(nodes={"input": inp, "fc": nir.Linear(weight=W), "lif": _lif(2), "output": out},
                              edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")], type_check=False))


def test_engine_networks_with_conductances_or_refractoriness_are_refused():
    from hwsnn.engine.neurons import DiehlCookNeuron
    from hwsnn.engine.neurons_extra import LifNeuron
    from hwsnn.snn import Network

    net = Network(dt=1e-3)
    net.add_input("in", 4)
    net.add_population("exc", DiehlCookNeuron(), 3)
    net.connect("in", "exc", 0.1)
    with pytest.raises(ConfigError, match="conductance") as e:
        from_engine(net)
    assert e.value.field == "groups.exc.neuron"
    net = Network(dt=1e-3)
    net.add_input("in", 4)
    net.add_population("exc", LifNeuron(refractory=2e-3), 3)
    net.connect("in", "exc", 0.1)
    with pytest.raises(ConfigError, match="refractory"):
        from_engine(net)


def test_read_nir_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        read_nir(tmp_path / "missing.nir")
    (tmp_path / "junk.nir").write_bytes(b"not hdf5")
    with pytest.raises(ConfigError, match="not a readable NIR file"):
        read_nir(tmp_path / "junk.nir")
