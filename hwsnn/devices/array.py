"""`DeviceArray`: a rows x cols array of memristors with lazy, per-device time (docs/devices.md).

Example
-------
>>> from hwsnn.devices import DeviceArray, get_preset
>>> a = DeviceArray(get_preset("sto"), shape=(4, 8), seed=0)
>>> a.pulse(5)            # 5 SET pulses on every device
>>> a.advance(10.0)       # 10 s pass: costs nothing, drift and decay are evaluated on read
>>> g = a.read()          # conductances (S) with read noise
"""

from __future__ import annotations

import math

import numpy as np

from hwsnn import rng
from hwsnn.devices import kernels as K
from hwsnn.devices.params import DeviceParams
from hwsnn.errors import ConfigError

__all__ = ["DeviceArray"]


# A scattered (flat-index) access costs about as much as this many contiguous ones (cache and TLB
# misses on every state array); work estimates of the event paths are scaled by it, so a few
# thousand scattered devices already go to the parallel kernels (measured: 2 threads pay off
# from ~1,000 scattered devices, from ~16,000 contiguous ones).
SCATTER_COST = 16


def _kern(name: str, work: int):
    """Parallel kernel, or its serial twin when the call touches few devices."""
    return getattr(K, name if work >= K.SERIAL_BELOW else name + "_serial")


def _int_array(x, field: str) -> np.ndarray:
    a = np.asarray(x)
    if a.dtype == bool or not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise ConfigError(field, f"must be an integer array, not dtype {a.dtype}")
    if np.issubdtype(a.dtype, np.floating):
        if not np.all(np.isfinite(a)) or not np.all(a == np.round(a)):
            raise ConfigError(field, "must hold whole pulse counts (finite integers)")
    return a.astype(np.int64, copy=False)


def _axis_index(x, field: str, n: int) -> np.ndarray:
    """Validated contiguous int64 row or column indices in ``[0, n)``."""
    a = np.asarray(x)
    if a.ndim != 1 or not (np.issubdtype(a.dtype, np.integer) or a.size == 0):
        raise ConfigError(field, "must be a 1-D integer index array")
    a = np.ascontiguousarray(a.astype(np.int64, copy=False))
    if a.size and (a.min() < 0 or a.max() >= n):
        raise ConfigError(field, f"indices must be in [0, {n})")
    return a


class DeviceArray:
    """A 2-D array of devices sharing one :class:`DeviceParams`.

    Parameters
    ----------
    p : DeviceParams
        Physics of the technology.
    shape : tuple of int
        ``(rows, cols)``.
    seed : int
        Seed of every random draw (device-to-device constants, faults, write and read noise).
    layout : {"rows", "columns"}, optional
        How the devices are stored: row by row (default), or column by column.  The API (shapes,
        ``rows``/``cols`` selections, flat indices ``row * cols + col``) is the same for both; the
        layout decides which selections are contiguous in memory, so pick the one the workload
        walks: rows for event-driven reads of spiking input rows, columns for a learning layer
        that reads and writes back the weight columns of the neurons that fired.  Every random
        draw is keyed by the storage position, so a ``"columns"`` array of shape ``(r, c)``
        equals the transpose of a ``"rows"`` array of shape ``(c, r)`` with the same seed.

    Notes
    -----
    A new array starts fully reset: every device at its own minimum conductance, time 0.
    Stuck devices ignore pulses.  Pulses act at the array's current :attr:`time`.
    """

    def __init__(self, p: DeviceParams, shape=(1, 1), seed: int = 0, *, layout: str = "rows"):
        if not isinstance(p, DeviceParams):
            raise ConfigError("params", f"must be a DeviceParams, not {type(p).__name__}")
        try:
            shape = tuple(int(s) for s in shape)
        except (TypeError, ValueError):
            raise ConfigError("shape", f"must be (rows, cols), not {shape!r}") from None
        if len(shape) != 2 or shape[0] < 1 or shape[1] < 1:
            raise ConfigError("shape", f"must be (rows, cols) with rows, cols >= 1, not {shape!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ConfigError("seed", f"must be a non-negative integer, not {seed!r}")
        if layout not in ("rows", "columns"):
            raise ConfigError("layout", f"must be 'rows' or 'columns', not {layout!r}")
        self.params = p
        self.shape = shape
        self.layout = layout
        self._T = layout == "columns"
        # storage shape: the kernels see a row-major array of this shape
        self._ps = (shape[1], shape[0]) if self._T else shape
        self.seed = int(seed)
        self._n = shape[0] * shape[1]
        self.time = 0.0
        self.energy = 0.0
        self.pulse_count = 0
        self._reads = 0
        n = self._n
        f32 = np.float32
        self._gl = np.zeros(n, f32)
        self._gs = np.zeros(n, f32)
        self._tw = np.zeros(n, np.float64)
        self._te = np.zeros(n, np.float64)
        self._ev = np.zeros(n, np.int64)
        self._gmin = np.empty(n, f32)
        self._gmax = np.empty(n, f32)
        self._ap = np.empty(n, f32)
        self._bp = np.empty(n, f32)
        self._ad = np.empty(n, f32)
        self._bd = np.empty(n, f32)
        self._su = np.empty(n, f32)
        self._sd = np.empty(n, f32)
        self._nu = np.empty(n, f32)
        self._tau = np.empty(n, f32)
        self._stuck = np.empty(n, np.int8)
        self._kw = rng.key(self.seed, K.STREAM_WRITE)
        self._ks = rng.key(self.seed, K.STREAM_ST)
        self._kr = rng.key(self.seed, K.STREAM_READ)
        self._knu = rng.key(self.seed, K.STREAM_NU)
        d = p.d2d
        _kern("populate", n)(
            n, p.g_min, p.g_max, d, d * p.d2d_step, d * p.d2d_nl, d * p.d2d_tau, p.nl_ltp, p.nl_ltd, p.p_max,
            p.p_max_down, p.st_tau, p.drift_nu_mean, p.drift_nu_std, p.p_stuck_min, p.p_stuck_max,
            p.p_stuck_random, rng.key(self.seed, K.STREAM_D2D), rng.key(self.seed, K.STREAM_FAULT),
            self._gmin, self._gmax, self._ap, self._bp, self._ad, self._bd, self._su, self._sd, self._nu,
            self._tau, self._stuck, self._gl,
        )
        if p.drift_model == "pcm":
            self._nu[:] = 0.0  # drawn from the programmed state at each write
        self._bias = p.st_bias
        self._fp, self._ip = self._pack()
        # block kernels (vectorised) cover the default physics; the other laws / PCM drift / 1/f
        # read noise run the per-device kernels
        self._fast_write = p.update_model == "neurosim" and p.drift_model == "power"
        self._fast_read = p.read_noise_model == "normal"
        self._z = None  # scratch for the block kernels' normal draws, allocated on first use
        self._all_cols = None  # arange(cols), made on first whole-row grid read
        self._col0 = np.zeros(1, np.int64)  # column selection of the flat-index reads

    # -- parameter packing --------------------------------------------------------------------
    def _pack(self):
        p = self.params
        fp = np.zeros(K.N_FP, np.float64)
        fp[K.F_C2C_MULT] = p.c2c_mult
        fp[K.F_C2C_ADD] = p.c2c_add
        fp[K.F_ST_AMP] = p.st_amp
        fp[K.F_ST_MAX] = p.st_max
        fp[K.F_ST_NOISE] = p.st_noise
        fp[K.F_CONSOL_RATE] = p.consol_rate
        fp[K.F_CONSOL_THETA] = p.consol_theta
        fp[K.F_DRIFT_T0] = p.drift_t0
        fp[K.F_DRIFT_G_REST] = p.drift_g_rest
        fp[K.F_DRIFT_ON] = 1.0 if (p.drift_nu_mean > 0 or p.drift_nu_std > 0) else 0.0
        fp[K.F_READ_NOISE] = p.read_noise
        fp[K.F_READ_NOISE_ADD] = p.read_noise_add
        fp[K.F_T_READ] = p.t_read
        fp[K.F_VW] = p.write_voltage
        fp[K.F_TPW] = p.pulse_width
        fp[K.F_CLINE] = p.line_cap
        fp[K.F_TAU_SCALE] = math.exp(p.st_kappa * self._bias)
        fp[K.F_G_MAX_NOM] = p.g_max
        fp[K.F_GAMMA_UP] = p.law_gamma_up
        fp[K.F_GAMMA_DN] = p.law_gamma_down
        fp[K.F_EXP_A_UP] = p.exp_A_up
        fp[K.F_EXP_A_DN] = p.exp_A_down
        fp[K.F_EXP_G_UP] = p.exp_gamma_up
        fp[K.F_EXP_G_DN] = p.exp_gamma_down
        fp[K.F_EXP_A] = p.exp_a
        fp[K.F_EXP_B] = p.exp_b
        ip = np.zeros(K.N_IP, np.int64)
        ip[K.I_LAW] = K.LAW_CODES[p.update_model]
        ip[K.I_DRIFT] = K.DRIFT_CODES[p.drift_model]
        ip[K.I_READ] = K.READ_CODES[p.read_noise_model]
        ip[K.I_LEVELS] = p.levels
        return fp, ip

    # -- helpers ------------------------------------------------------------------------------
    def _prows(self, r) -> np.ndarray:
        """Storage rows: ``r`` (validated) or all."""
        return np.arange(self._ps[0], dtype=np.int64) if r is None else r

    def _sel(self, rows, cols):
        """Validated ``rows``/``cols`` (names as the caller gave them) as a storage selection."""
        r = None if rows is None else _axis_index(rows, "rows", self.shape[0])
        c = None if cols is None else _axis_index(cols, "cols", self.shape[1])
        return (c, r) if self._T else (r, c)

    def _out(self, a: np.ndarray) -> np.ndarray:
        """A storage-shaped result in the API's orientation (``(rows, cols)``), C-contiguous."""
        return np.ascontiguousarray(a.T) if self._T else a

    def _per_device(self, flat: np.ndarray) -> np.ndarray:
        return self._out(flat.reshape(self._ps))

    def _state(self):
        return (self._gl, self._gs, self._tw, self._te, self._ev, self._gmin, self._gmax, self._ap, self._bp,
                self._ad, self._bd, self._su, self._sd, self._nu, self._tau, self._stuck, self._fp, self._ip,
                self._kw, self._ks, self._knu)

    def _scratch(self):
        if self._z is None:
            self._z = (np.empty(self._n), np.empty(self._n))
        return self._z

    def _account(self, e_cnt):
        e, cnt = e_cnt
        self.energy += float(e)
        self.pulse_count += int(cnt)

    # -- core API -----------------------------------------------------------------------------
    def conductance(self, rows=None, cols=None) -> np.ndarray:
        """Noise-free conductance (S) at the current time; ``rows``/``cols`` select rows and columns
        (lazy: only the selected devices are evaluated)."""
        r, c = self._sel(rows, cols)
        return self._out(self._read(r, False, c))

    def read(self, rows=None, cols=None) -> np.ndarray:
        """Conductance (S) with read noise, fresh noise on every call (``rows``/``cols`` select)."""
        r, c = self._sel(rows, cols)
        return self._out(self._read(r, True, c))

    def _grid(self, r, c):
        """(storage rows, storage column selection, work estimate) of a storage selection."""
        r = self._prows(r)
        if c is None:
            if self._all_cols is None:
                self._all_cols = np.arange(self._ps[1], dtype=np.int64)
            return r, self._all_cols, r.size * self._ps[1]
        # a few columns of each row are scattered accesses; most of a row is nearly contiguous
        cost = SCATTER_COST if 4 * c.size < self._ps[1] else 1
        return r, c, cost * r.size * c.size

    def _read(self, rows, noisy: bool, cols=None) -> np.ndarray:
        """Storage-shaped read of a validated storage selection."""
        rc = self._reads
        if noisy:
            self._reads += 1
        args = (self.time, self._gl, self._gs, self._tw, self._te, self._nu, self._tau, self._gmin, self._gmax,
                self._stuck, self._fp, self._ip, self._kr, rc, noisy)
        seg = self._ps[1]
        if cols is None and self._fast_read:
            offs = np.zeros(1, np.int64) if rows is None else rows * seg
            out = np.empty(offs.size * seg if rows is not None else self._n, np.float64)
            _kern("read_seg_fast", out.size)(out, offs, *args, *self._scratch())
            return out.reshape(self._ps if rows is None else (offs.size, seg))
        if cols is None and rows is None:
            out = np.empty(self._n, np.float64)
            _kern("read_all", self._n)(out, *args)
            return out.reshape(self._ps)
        r, c, work = self._grid(rows, cols)
        out = np.empty((r.size, c.size), np.float64)
        _kern("read_grid", work)(out, r, c, seg, *args)
        return out

    def pulse(self, n, rows=None) -> None:
        """Apply ``n`` pulses per device (int array, broadcastable): ``n > 0`` SET, ``n < 0`` RESET.

        With ``rows``, ``n`` broadcasts to ``(len(rows), cols)`` and only those rows are written.
        """
        a = _int_array(n, "n")
        cols = self.shape[1]
        if rows is None:
            try:
                full = np.broadcast_to(a, self.shape)
            except ValueError:
                raise ConfigError("n", f"shape {a.shape} does not broadcast to the array shape {self.shape}") from None
            flat = np.ascontiguousarray(full.T if self._T else full).reshape(-1)
            if self._fast_write:
                self._account(_kern("pulse_seg_fast", self._n)(flat, np.zeros(1, np.int64), self.time, *self._state(),
                                                               *self._scratch()))
            else:
                self._account(_kern("pulse_all", self._n)(flat, self.time, *self._state()))
            return
        r = _axis_index(rows, "rows", self.shape[0])
        if np.unique(r).size != r.size:
            raise ConfigError("rows", "must not repeat a row within one pulse call")
        try:
            n2 = np.ascontiguousarray(np.broadcast_to(a, (r.size, cols)))
        except ValueError:
            raise ConfigError("n", f"shape {a.shape} does not broadcast to ({r.size}, {cols})") from None
        if self._T:
            # a row is strided in column storage: pulse its devices as a list, in storage order
            o = np.argsort(r, kind="stable")
            idx = (np.arange(cols, dtype=np.int64)[:, None] * self.shape[0] + r[o][None, :]).reshape(-1)
            self._pulse_list(idx, np.ascontiguousarray(n2[o].T).reshape(-1))
            return
        if self._fast_write:
            self._account(_kern("pulse_seg_fast", n2.size)(n2.reshape(-1), r * cols, self.time, *self._state(),
                                                           *self._scratch()))
        else:
            self._account(_kern("pulse_rows", n2.size)(r, cols, n2, self.time, *self._state()))

    def pulse_at(self, flat_idx, n) -> None:
        """Event-driven path: pulse the devices ``flat_idx`` (flat indices ``row * cols + col``,
        unique) with ``n``."""
        idx, ordered = self._flat(flat_idx, want_order=True)
        a = _int_array(n, "n")
        try:
            nv = np.ascontiguousarray(np.broadcast_to(a, idx.shape))
        except ValueError:
            raise ConfigError("n", f"shape {a.shape} does not match flat_idx shape {idx.shape}") from None
        if not ordered and np.unique(idx).size != idx.size:  # strictly increasing input skips the sort
            raise ConfigError("flat_idx", "must not repeat a device within one call")
        self._pulse_list(idx, nv)

    def _pulse_list(self, idx, nv) -> None:
        """Pulse the devices at storage positions ``idx`` (unique) with ``nv``."""
        if self._fast_write:
            self._account(_kern("pulse_list_fast", SCATTER_COST * idx.size)(idx, nv, self.time, *self._state(), *self._scratch()))
        else:
            self._account(_kern("pulse_sparse", SCATTER_COST * idx.size)(idx, nv, self.time, *self._state()))

    def advance(self, dt: float) -> None:
        """Advance the array clock by ``dt`` seconds (free: evolution is evaluated lazily)."""
        try:
            dt = float(dt)
        except (TypeError, ValueError):
            raise ConfigError("dt", f"must be a number of seconds, not {dt!r}") from None
        if not math.isfinite(dt) or dt < 0:
            raise ConfigError("dt", f"must be finite and >= 0 s, not {dt}")
        self.time += dt

    # -- extended API -------------------------------------------------------------------------
    def pulses_for(self, g_target, rows=None, n_cap: int | None = None) -> np.ndarray:
        """Noise-free predicted signed pulse counts bringing each device closest to ``g_target`` (S).

        Inverse of each device's own law with its own device-to-device constants, evaluated on the
        long-term state at the current time (the volatile part is not targeted).  Stuck devices get 0.
        (A ``"columns"`` array evaluates every device for a row selection and returns those rows.)
        """
        r = np.arange(self.shape[0], dtype=np.int64) if rows is None else _axis_index(rows, "rows", self.shape[0])
        tgt = np.asarray(g_target, dtype=np.float64)
        if not np.all(np.isfinite(tgt)):
            raise ConfigError("g_target", "must be finite")
        try:
            tgt = np.ascontiguousarray(np.broadcast_to(tgt, (r.size, self.shape[1])))
        except ValueError:
            raise ConfigError("g_target", f"shape {tgt.shape} does not broadcast to ({r.size}, {self.shape[1]})") from None
        cap = int(n_cap) if n_cap is not None else int(8 * max(self.params.p_max, self.params.p_max_down)) + 8
        if self._T:
            full = np.zeros(self.shape, np.float64)
            full[r] = tgt
            pr, tgt = np.arange(self._ps[0], dtype=np.int64), np.ascontiguousarray(full.T)
        else:
            pr = r
        out = np.empty((pr.size, self._ps[1]), np.int64)
        _kern("inverse_rows", out.size)(out, pr, self._ps[1], tgt, self.time, self._gl, self._tw, self._nu, self._gmin, self._gmax,
                       self._ap, self._bp, self._ad, self._bd, self._su, self._sd, self._stuck, self._fp, self._ip,
                       cap)
        return self._out(out)[r] if self._T else out

    def _flat(self, flat_idx, want_order: bool = False):
        """Validated flat indices as contiguous int64 storage positions (and, if asked, whether
        those strictly increase)."""
        idx = np.asarray(flat_idx)
        if idx.ndim != 1 or not (np.issubdtype(idx.dtype, np.integer) or idx.size == 0):
            raise ConfigError("flat_idx", "must be a 1-D integer array of flat device indices")
        idx = np.ascontiguousarray(idx.astype(np.int64, copy=False))
        code = K.check_flat_idx(idx, self._n)  # one pass: range and order (the event paths are hot)
        if code < 0:
            raise ConfigError("flat_idx", f"indices must be in [0, {self._n})")
        if self._T:
            cols = self.shape[1]
            idx = (idx % cols) * self.shape[0] + idx // cols
            code = K.check_flat_idx(idx, self._n)
        return (idx, code == 0) if want_order else idx

    def conductance_at(self, flat_idx) -> np.ndarray:
        """Noise-free conductance (S) of the devices ``flat_idx`` only (event-driven read).

        The grid kernels run with a row length of 1, so each index is one device: the same
        per-device closed form as :meth:`conductance`, at a cost proportional to ``len(flat_idx)``.
        """
        idx = self._flat(flat_idx)
        out = np.empty((idx.size, 1), np.float64)
        _kern("read_grid", SCATTER_COST * idx.size)(out, idx, self._col0, 1, self.time, self._gl, self._gs, self._tw,
                                                    self._te, self._nu, self._tau, self._gmin, self._gmax,
                                                    self._stuck, self._fp, self._ip, self._kr, self._reads, False)
        return out[:, 0]

    def long_term_at(self, flat_idx) -> np.ndarray:
        """Normalised long-term state of the devices ``flat_idx`` only (see :meth:`long_term`)."""
        idx = self._flat(flat_idx)
        out = np.empty((idx.size, 1), np.float64)
        _kern("long_term_grid", SCATTER_COST * idx.size)(out, idx, self._col0, 1, self.time, self._gl, self._tw,
                                                         self._nu, self._stuck, self._gmin, self._gmax, self._fp,
                                                         False)
        return out[:, 0]

    def long_term(self, rows=None, cols=None, siemens: bool = False) -> np.ndarray:
        """Long-term state at the current time (drift applied, no volatile part): normalised to
        [0, 1], or with ``siemens`` the conductance ``g_min + (g_max - g_min) * state`` of each
        device's own window.  ``rows``/``cols`` select (lazy)."""
        r, c, work = self._grid(*self._sel(rows, cols))
        out = np.empty((r.size, c.size), np.float64)
        _kern("long_term_grid", work)(out, r, c, self._ps[1], self.time, self._gl, self._tw, self._nu, self._stuck,
                                      self._gmin, self._gmax, self._fp, bool(siemens))
        return self._out(out)

    @property
    def bias(self) -> float:
        """Bias voltage setting the volatile time constant ``st_tau * exp(st_kappa * bias)``."""
        return self._bias

    @bias.setter
    def bias(self, v: float) -> None:
        v = float(v)
        if not math.isfinite(v):
            raise ConfigError("bias", f"must be finite, not {v}")
        # decay so far happened under the old tau: fold it in before switching
        K.materialize_st(self.time, self._gs, self._te, self._tau, self._fp)
        self._bias = v
        self._fp[K.F_TAU_SCALE] = math.exp(self.params.st_kappa * v)

    @property
    def g_min_dev(self) -> np.ndarray:
        """Per-device minimum conductance (S), shape ``(rows, cols)``."""
        return self._per_device(self._gmin.astype(np.float64))

    @property
    def g_max_dev(self) -> np.ndarray:
        """Per-device maximum conductance (S), shape ``(rows, cols)``."""
        return self._per_device(self._gmax.astype(np.float64))

    @property
    def stuck(self) -> np.ndarray:
        """int8 fault map: 0 ok, 1 stuck at min, 2 stuck at max, 3 stuck at random."""
        return self._per_device(self._stuck.copy())

    @property
    def nu(self) -> np.ndarray:
        """Per-device drift exponent."""
        return self._per_device(self._nu.astype(np.float64))

    @property
    def tau(self) -> np.ndarray:
        """Per-device volatile time constant at zero bias (s)."""
        return self._per_device(self._tau.astype(np.float64))

    @property
    def size(self) -> int:
        return self._n

    def __repr__(self) -> str:
        lay = ", layout='columns'" if self._T else ""
        return (f"DeviceArray(shape={self.shape}, seed={self.seed}, time={self.time:g}, "
                f"law={self.params.update_model!r}{lay})")
