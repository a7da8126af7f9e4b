"""`Crossbar`: a weight matrix stored in a memristor array, with its read and write periphery.

Example
-------
>>> import numpy as np
>>> from hwsnn.crossbar import Crossbar
>>> from hwsnn.devices import get_preset
>>> xb = Crossbar(get_preset("ideal"), n_in=4, n_out=3, seed=0)
>>> res = xb.program(np.full((4, 3), 0.5))
>>> y = xb.read_currents(np.array([0, 2]))      # ~ [1, 1, 1]: two spiking rows x w = 0.5
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hwsnn import rng
from hwsnn.crossbar import kernels as K
from hwsnn.crossbar.config import CrossbarConfig
from hwsnn.crossbar.irdrop import ir_drop_currents
from hwsnn.crossbar.periphery import dac_quantize
from hwsnn.devices import DeviceArray, DeviceParams, get_preset
from hwsnn.errors import ConfigError

__all__ = ["Crossbar", "ProgramResult"]

# RNG streams of the crossbar; far from the device streams (1..6) that share the seed
_STREAM_READ = 0xC0B0_0001
_STREAM_UPDATE = 0xC0B0_0002

# column read noise is used only when a device read could not be clipped at 0 S
# (|z| > 7 has probability 2.6e-12), i.e. when it is exactly the per-device distribution
_CLIP_Z = 7.0


@dataclass(frozen=True)
class ProgramResult:
    """Outcome of :meth:`Crossbar.program`."""

    pulses: int
    """Programming pulses applied (all devices, all iterations)."""
    energy: float
    """Write energy of those pulses (J), from the device model."""
    iterations: int
    """Write rounds: the open-loop write plus every verify correction round."""
    error: float
    """Largest ``|weights() - target|`` after programming (noise-free, weight units)."""
    rms_error: float
    """Root-mean-square of the same error."""
    converged: float
    """Fraction of weights within ``update.verify_tol * (w_max - w_min)`` of their target (noise-free)."""
    write_slots: int
    """Pulse slots the parallel write takes (``update.pulse_scheme``; SET and RESET phases apart)."""
    write_time: float
    """``write_slots * pulse_width`` in seconds."""


def _as_int_index(x, field: str, n: int) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim == 0:
        a = a.reshape(1)
    if a.ndim != 1 or not (np.issubdtype(a.dtype, np.integer) or a.size == 0):
        raise ConfigError(field, f"must be a 1-D integer index array, not {a.dtype} shape {a.shape}")
    a = a.astype(np.int64, copy=False)
    if a.size and (a.min() < 0 or a.max() >= n):
        raise ConfigError(field, f"indices must be in [0, {n})")
    return np.ascontiguousarray(a)


class Crossbar:
    """An ``n_in x n_out`` weight matrix held as memristor conductances.

    Parameters
    ----------
    device : DeviceParams or str
        Device physics, or the name of a preset.
    n_in, n_out : int
        Inputs (word lines) and outputs (weights per input).
    config : CrossbarConfig
        Mapping, periphery and update scheme.
    seed : int
        Seed of the device array (device-to-device draws, write and read noise) and of the
        crossbar's own draws (column read noise, stochastic rounding).
    layout : {"rows", "columns"}, optional
        Storage order of the device array (:class:`~hwsnn.devices.DeviceArray`): ``"rows"``
        (default) keeps the rows an event-driven read of spiking inputs touches contiguous;
        ``"columns"`` keeps weight columns contiguous, for a learning layer that reads back and
        writes the columns of the neurons that fired (the main job's crossbar).  The results
        have the same statistics either way, not the same draws.

    Notes
    -----
    The device array has ``2*n_out`` columns (differential) or ``n_out + 1`` (reference); see
    :mod:`hwsnn.crossbar.kernels` for the layout.  Weight ``w`` maps to conductances with the
    nominal window ``dG = g_max - g_min`` of :class:`DeviceParams`: ``w = w_span * (G+ - G-)/dG``
    (differential) or ``w = (w_max - w_min)(G - G_ref)/dG`` (reference).  Device-to-device spread
    therefore shows up as weight error, which write-verify corrects.

    Read pipeline (:meth:`read_currents`): DAC-quantised inputs on the active rows only ->
    conductances of those rows -> column sums (plus read noise) -> ``out_noise`` -> ADC.  With
    ``io.read_noise = "column"`` the device read noise is drawn once per column current instead of
    once per device: for the device's Gaussian law ``G(1 + sr*xi) + sa*xi'`` a column current
    ``sum_i x_i G_i(1 + ...)`` is a sum of independent Gaussians, hence exactly Gaussian with the
    summed variance ``sum_i x_i^2 (sr^2 G_i^2 + sa_i^2)``.  It is used only when that equivalence is
    exact: ``normal`` noise law, no IR drop (the network makes the current a nonlinear function of
    the noisy G) and no chance that the device's clip of a read at 0 S acts (sigma/G <= 1/7).
    Otherwise each device is read with its own draw.  With IR drop on, every row takes part (inactive
    rows are driven at 0 V) and the resistive network is solved on each read.
    """

    def __init__(self, device, n_in: int, n_out: int, config: CrossbarConfig | None = None, seed: int = 0, *,
                 layout: str = "rows"):
        if isinstance(device, str):
            device = get_preset(device)
        if not isinstance(device, DeviceParams):
            raise ConfigError("device", f"must be a DeviceParams or preset name, not {type(device).__name__}")
        for name, v in (("n_in", n_in), ("n_out", n_out)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ConfigError(name, f"must be an integer >= 1, not {v!r}")
        config = CrossbarConfig() if config is None else config
        if not isinstance(config, CrossbarConfig):
            raise ConfigError("config", f"must be a CrossbarConfig, not {type(config).__name__}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ConfigError("seed", f"must be a non-negative integer, not {seed!r}")
        self.params = device
        self.config = config
        self.n_in = int(n_in)
        self.n_out = int(n_out)
        self.seed = int(seed)
        m = config.mapping
        self._scheme = K.SCHEME_DIFF if m.scheme == "differential" else K.SCHEME_REF
        self._dev_cols = 2 * self.n_out if self._scheme == K.SCHEME_DIFF else self.n_out + 1
        self.array = DeviceArray(device, shape=(self.n_in, self._dev_cols), seed=self.seed, layout=layout)
        self._by_column = self.array.layout == "columns"
        self._dg = device.g_max - device.g_min
        self._span = m.w_span
        self._c = self._span / self._dg  # weight units per siemens
        # differential reset_plus with signed weights needs to know which device is active
        self._signed = self._scheme == K.SCHEME_DIFF and m.w_min < 0 and config.update.depress == "reset_plus"
        self._mode = K.MODE_RESET_PLUS if config.update.depress == "reset_plus" else K.MODE_SET_MINUS
        u = config.update
        if u.dw_step is not None:
            self._step_pos = self._step_neg = u.dw_step
        else:
            self._step_pos = self._span / device.p_max
            dn_is_reset = self._scheme == K.SCHEME_REF or self._mode == K.MODE_RESET_PLUS
            self._step_neg = self._span / (device.p_max_down if dn_is_reset else device.p_max)
        io = config.io
        self._adc_on = io.adc_bits is not None
        if io.adc_range is not None:
            lo, hi = io.adc_range
        else:
            lo, hi = self.n_in * min(m.w_min, 0.0), self.n_in * max(m.w_max, 0.0)
        self.adc_range = (float(lo), float(hi))
        nmax = float(2**io.adc_bits - 1) if self._adc_on else 1.0
        self._adc = (self._adc_on, self.adc_range[0], (hi - lo) / nmax, nmax, io.adc_clip == "saturate")
        self._dac_levels = float(2**io.dac_bits - 1)
        # per-device additive read-noise sigma (S); constant, so computed once
        self._sa = (device.read_noise_add * (self.array.g_max_dev - self.array.g_min_dev)
                    if device.read_noise_add > 0 else None)
        self._column_noise_ok = self._column_noise_exact()
        self._kread = rng.key(self.seed, _STREAM_READ)
        self._kupd = rng.key(self.seed, _STREAM_UPDATE)
        self._reads = 0
        self._updates = 0
        self._zero_sa = np.zeros((0, self._dev_cols))
        self._no_side = np.zeros((1, 1), np.int8)
        self._flat = np.empty(0, np.int64)
        self._cnt = np.empty(0, np.int64)

    # -- properties ---------------------------------------------------------------------------
    @property
    def energy(self) -> float:
        """Total write energy so far (J)."""
        return self.array.energy

    @property
    def pulse_count(self) -> int:
        """Total programming pulses so far."""
        return self.array.pulse_count

    @property
    def time(self) -> float:
        """Array clock (s)."""
        return self.array.time

    @property
    def dw_step(self) -> tuple[float, float]:
        """Weight change credited to one potentiating / depressing pulse by :meth:`update`."""
        return self._step_pos, self._step_neg

    def advance(self, dt: float) -> None:
        """Advance the array clock by ``dt`` seconds (drift and volatile decay are lazy)."""
        self.array.advance(dt)

    def _column_noise_exact(self) -> bool:
        p = self.params
        if self.config.io.read_noise != "column" or self.config.io.ir_drop:
            return False
        if p.read_noise_model != "normal":
            return False
        if p.read_noise == 0 and p.read_noise_add == 0:
            return True
        # the device clips a noisy read at 0 S; the per-column Gaussian equals the per-device
        # draws only if that clip never acts: sigma_i/G_i <= sqrt(sr^2 + (sa*dG_i/Gmin_i)^2)
        gmin = float(self.array.g_min_dev.min())
        if gmin <= 0:
            return p.read_noise_add == 0 and p.read_noise * _CLIP_Z <= 1.0
        dgmax = float((self.array.g_max_dev - self.array.g_min_dev).max())
        rel = math.hypot(p.read_noise, p.read_noise_add * dgmax / gmin)
        return rel * _CLIP_Z <= 1.0

    # -- weights <-> conductances -------------------------------------------------------------
    def _weights_from(self, g: np.ndarray) -> np.ndarray:
        n = self.n_out
        if self._scheme == K.SCHEME_DIFF:
            return self._c * (g[:, 0::2] - g[:, 1::2])
        return self._c * (g[:, :n] - g[:, n:n + 1])

    def weights(self, cols=None, long_term: bool = False) -> np.ndarray:
        """Effective weights: noise-free conductances at the current time, in weight units.

        Parameters
        ----------
        cols : int array, optional
            Return only these weight columns, shape ``(n_in, len(cols))`` in the given order
            (default: all, ``(n_in, n_out)``).
        long_term : bool, optional
            Leave out the volatile (short-term) component of every device: the consolidated
            weights the array would relax to (drift up to the current time still applies; stuck
            devices keep their fixed conductance).

        Notes
        -----
        A column subset reads only the devices that carry those columns (event-driven: the WTA
        network reads back the handful of columns written in a sample), through the device
        array's row/column-selecting reads; the result equals slicing ``weights(long_term=...)``.
        """
        c = None if cols is None else _as_int_index(cols, "cols", self.n_out)
        a = self.array
        if c is None:
            dcols = None
        elif self._scheme == K.SCHEME_DIFF:
            dcols = np.stack([2 * c, 2 * c + 1], axis=1).reshape(-1)
        else:
            dcols = np.concatenate([c, [self.n_out]])
        g = a.long_term(cols=dcols, siemens=True) if long_term else a.conductance(cols=dcols)
        if c is None:
            return self._weights_from(g)
        if self._scheme == K.SCHEME_DIFF:
            return self._c * (g[:, 0::2] - g[:, 1::2])
        return self._c * (g[:, :-1] - g[:, -1:])

    def read_model(self, cols=None) -> tuple[np.ndarray, np.ndarray]:
        """Per-cell read model of the column read: noise-free weights and read-noise variances.

        A column read with binary inputs on rows ``R`` returns, before output noise and ADC,
        ``sum_{i in R} w[i, j] + sqrt(sum_{i in R} v[i, j]) * z_j`` with one standard normal per
        column (:meth:`read_currents` does exactly this from the conductances of the active
        rows).  Fused kernels that keep ``w`` and ``v`` cached between writes sum them over the
        active rows and finish through the same :func:`hwsnn.crossbar.kernels.read_out`.

        Parameters
        ----------
        cols : int array, optional
            Weight columns to return (default all).

        Returns
        -------
        (w, v) : two ``(n_in, len(cols))`` float arrays, weight units and weight units squared.
        """
        if self._scheme != K.SCHEME_DIFF:
            raise ConfigError("mapping.scheme", "the per-cell read model needs 'differential' (a reference "
                                                "column's noise is shared by all columns)")
        noise_free = self.params.read_noise == 0 and self.params.read_noise_add == 0 and not self.config.io.ir_drop
        if not (self._column_noise_ok or noise_free):
            raise ConfigError("io.read_noise", "the per-cell read model is the exact column-sum Gaussian: it needs "
                                               "io.read_noise = 'column', no IR drop, time-independent ('normal') "
                                               "device read noise that never clips at 0 S")
        c = np.arange(self.n_out, dtype=np.int64) if cols is None else _as_int_index(cols, "cols", self.n_out)
        dcols = np.stack([2 * c, 2 * c + 1], axis=1).reshape(-1)
        g = np.ascontiguousarray(self.array.conductance(cols=None if cols is None else dcols))
        has_sa = self._sa is not None
        sa = np.ascontiguousarray(self._sa[:, dcols]) if has_sa else self._zero_sa
        w = np.empty((self.n_in, c.size))
        v = np.empty((self.n_in, c.size))
        K.pair_stats(g, float(self.params.read_noise), has_sa, sa, self._c, w, v)
        return w, v

    @property
    def adc(self) -> tuple[bool, float, float, float, bool]:
        """The column ADC in weight units: (on, range low end, step, highest code, saturate)."""
        return self._adc

    @property
    def read_key(self) -> tuple[np.uint64, int]:
        """(key, counter) of the next column read: a fused kernel that reads this crossbar draws
        its column noise with them and then calls :meth:`count_reads`."""
        return self._kread, self._reads

    def count_reads(self, n: int) -> None:
        """Account for ``n`` column reads made by a fused kernel through :attr:`read_key`."""
        self._reads += int(n)

    def quantize(self, w) -> np.ndarray:
        """Targets as :meth:`program` writes them: checked, and rounded to ``mapping.levels``."""
        m = self.config.mapping
        w = np.asarray(w, np.float64)
        if w.shape != (self.n_in, self.n_out):
            raise ConfigError("w", f"must have shape ({self.n_in}, {self.n_out}), not {w.shape}")
        if not np.all(np.isfinite(w)):
            raise ConfigError("w", "must be finite")
        eps = 1e-9 * (m.w_max - m.w_min)
        if w.min() < m.w_min - eps or w.max() > m.w_max + eps:
            raise ConfigError("w", f"values must lie in [w_min, w_max] = [{m.w_min}, {m.w_max}]")
        w = np.clip(w, m.w_min, m.w_max)
        if m.levels is not None:
            step = (m.w_max - m.w_min) / (m.levels - 1)
            w = m.w_min + np.floor((w - m.w_min) / step + 0.5) * step
        return w

    def _active_mask(self, w_t):
        """Device-shaped mask of the device carrying each weight, and the ``G`` targets (S) of
        the open-loop write (nominal window)."""
        p, m = self.params, self.config.mapping
        shape = (self.n_in, self._dev_cols)
        active = np.zeros(shape, bool)
        tgt = np.empty(shape)
        if self._scheme == K.SCHEME_DIFF:
            pos = w_t >= 0
            active[:, 0::2] = pos
            active[:, 1::2] = ~pos
            mag = p.g_min + np.abs(w_t) / self._c
            # partner devices go fully reset (to their own minimum)
            tgt[:, 0::2] = np.where(pos, mag, self.array.g_min_dev[:, 0::2])
            tgt[:, 1::2] = np.where(pos, self.array.g_min_dev[:, 1::2], mag)
        else:
            active[:, :self.n_out] = True
            g_ref = p.g_min - m.w_min / self._c
            tgt[:, :self.n_out] = g_ref + w_t / self._c
            tgt[:, self.n_out] = g_ref
            if m.w_min == 0:
                tgt[:, self.n_out] = self.array.g_min_dev[:, self.n_out]
        return active, tgt

    def _verify_targets(self, w_t, g_read):
        """Targets of the active devices from the measured partner: ``G_act = G_partner +- w/c``."""
        n = self.n_out
        tgt = np.empty_like(g_read)
        if self._scheme == K.SCHEME_DIFF:
            tgt[:, 0::2] = g_read[:, 1::2] + w_t / self._c
            tgt[:, 1::2] = g_read[:, 0::2] - w_t / self._c
        else:
            tgt[:, :n] = g_read[:, n:n + 1] + w_t / self._c
            tgt[:, n] = g_read[:, n]
        return tgt

    def program(self, w, verify: bool = True) -> ProgramResult:
        """Write target weights ``w`` (n_in, n_out), open loop and then (``verify``) closed loop.

        Open loop: each device gets the pulse count its own inverse law predicts (noise-free) to
        reach the nominal target; the idle device of a differential pair is fully reset.  Verify
        (docs/crossbar.md, section Programming and write-verify): read every device (with read noise), and where
        ``|w_read - w_target| > verify_tol*(w_max - w_min)`` re-target the active device at
        ``G_partner_read +- w_target/c`` and pulse it; stop when all pass, when no failing device can
        move by a whole pulse, or after ``verify_max_iter`` rounds.
        """
        u, m = self.config.update, self.config.mapping
        w_t = self.quantize(w)
        a = self.array
        e0, p0 = a.energy, a.pulse_count
        by_row = u.pulse_scheme == "row"
        active, tgt = self._active_mask(w_t)
        n = a.pulses_for(tgt)
        slots = int(K.write_slots(n, by_row))
        a.pulse(n)
        iters = 1
        tol = u.verify_tol * (m.w_max - m.w_min)
        if verify:
            for _ in range(u.verify_max_iter):
                if u.verify_wait > 0:
                    a.advance(u.verify_wait)
                g = a.read()
                bad = np.abs(self._weights_from(g) - w_t) > tol
                if not bad.any():
                    break
                dev_bad = np.zeros_like(active)
                if self._scheme == K.SCHEME_DIFF:
                    dev_bad[:, 0::2] = bad
                    dev_bad[:, 1::2] = bad
                else:
                    dev_bad[:, :self.n_out] = bad
                dev_bad &= active
                n = a.pulses_for(self._verify_targets(w_t, g))
                n[~dev_bad] = 0
                if not n.any():
                    break  # the remaining errors are below one pulse (or on stuck devices)
                slots += int(K.write_slots(n, by_row))
                a.pulse(n)
                iters += 1
        err = np.abs(self.weights() - w_t)
        return ProgramResult(
            pulses=int(a.pulse_count - p0), energy=float(a.energy - e0), iterations=iters, error=float(err.max()),
            rms_error=float(np.sqrt(np.mean(err**2))), converged=float(np.mean(err <= tol)), write_slots=slots,
            write_time=slots * self.params.pulse_width,
        )

    # -- reads --------------------------------------------------------------------------------
    def _inputs(self, active_rows, values):
        rows = _as_int_index(active_rows, "active_rows", self.n_in)
        if values is None:
            x = np.ones(rows.size)
        else:
            x = np.asarray(values, np.float64)
            if x.ndim == 0:
                x = np.full(rows.size, float(x))
            if x.shape != rows.shape:
                raise ConfigError("values", f"must have one value per active row ({rows.size}), not shape {x.shape}")
            if not np.all(np.isfinite(x)):
                raise ConfigError("values", "must be finite")
            x = dac_quantize(x, self.config.io.dac_bits)
        return rows, x

    def read_currents(self, active_rows, values=None) -> np.ndarray:
        """Event-driven read: drive only ``active_rows``; return the ``n_out`` column outputs.

        Parameters
        ----------
        active_rows : int array
            Rows with input (spiking rows).  Other rows are at 0 V.  A repeated row counts twice.
        values : float array, optional
            Input per active row in [0, 1], quantised by the ``io.dac_bits`` DAC (saturating);
            None = binary spikes (``x = 1``).

        Returns
        -------
        (n_out,) float array in weight units, ``sum_i w_ij x_i``, after read noise, IR drop (if on),
        output noise and ADC.
        """
        rows, x = self._inputs(active_rows, values)
        return self._read(rows, x)

    def _read(self, rows, x):
        io, a, p = self.config.io, self.array, self.params
        counter = self._reads
        self._reads += 1
        if io.ir_drop:
            g = a.read()  # every row takes part in the resistive network
            v = np.zeros(self.n_in)
            np.add.at(v, rows, x * io.v_read)
            i_phys = ir_drop_currents(g, v, io.r_wire, io.ir_tol, io.ir_max_iter) / io.v_read
            y = K.combine_columns(i_phys, self._scheme, self.n_out, self._c)
            K.finish_columns(y, self._kread, counter, io.out_noise, *self._adc)
            return y
        if self._column_noise_ok:
            g = a.conductance(rows)
            noise_on = p.read_noise > 0 or p.read_noise_add > 0
            has_sa = self._sa is not None
            sa = self._sa[rows] if has_sa else self._zero_sa
            return K.read_columns(g, x, self._scheme, self.n_out, self._c, noise_on, p.read_noise, has_sa, sa,
                                  self._kread, counter, io.out_noise, *self._adc)
        g = a.read(rows)  # per-device draws
        return K.read_columns(g, x, self._scheme, self.n_out, self._c, False, 0.0, False, self._zero_sa, self._kread,
                              counter, io.out_noise, *self._adc)

    def mvm(self, x) -> np.ndarray:
        """Dense read: ``x`` (n_in,) or (batch, n_in) in [0, 1] -> (n_out,) or (batch, n_out)."""
        x = np.asarray(x, np.float64)
        if x.ndim not in (1, 2) or x.shape[-1] != self.n_in:
            raise ConfigError("x", f"must have shape (n_in,) or (batch, n_in) with n_in = {self.n_in}, not {x.shape}")
        rows = np.arange(self.n_in, dtype=np.int64)
        if x.ndim == 1:
            return self.read_currents(rows, x)
        return np.stack([self.read_currents(rows, xi) for xi in x])

    # -- writes -------------------------------------------------------------------------------
    def _sel(self, rows, cols, shape, field):
        r = np.arange(self.n_in, dtype=np.int64) if rows is None else _as_int_index(rows, "rows", self.n_in)
        c = np.arange(self.n_out, dtype=np.int64) if cols is None else _as_int_index(cols, "cols", self.n_out)
        if shape != (r.size, c.size):
            raise ConfigError(field, f"must have shape ({r.size}, {c.size}) for the selected rows/cols, not {shape}")
        if (rows is not None and np.unique(r).size != r.size) or (cols is not None and np.unique(c).size != c.size):
            raise ConfigError("rows" if rows is not None and np.unique(r).size != r.size else "cols",
                              "must not repeat an index")
        return r, c

    def _side(self, r, c):
        """Which device of each selected pair is active (+1 G+, -1 G-, 0 both at rest), from the
        long-term states (what the write controller has put there), for signed ``reset_plus``."""
        if not self._signed:
            return self._no_side
        lt = self.array.long_term(r)
        return np.sign(lt[:, 2 * c] - lt[:, 2 * c + 1]).astype(np.int8)

    def _route_and_pulse(self, n, r, c, side):
        size = n.size
        if self._flat.size < size:
            self._flat = np.empty(size, np.int64)
            self._cnt = np.empty(size, np.int64)
        nnz = K.route_pulses(n, r, c, self._scheme, self._mode, side, self._signed, self._dev_cols, self.n_out,
                             self._flat, self._cnt, self._by_column)
        if nnz:
            self.array.pulse_at(self._flat[:nnz].copy(), self._cnt[:nnz].copy())

    def update(self, dw, rows=None, cols=None) -> np.ndarray:
        """Apply a desired weight change ``dw`` as SET/RESET pulses.

        ``dw`` has shape ``(len(rows) or n_in, len(cols) or n_out)``.  Pulse counts are
        ``dw / dw_step`` (see :attr:`dw_step`), rounded stochastically (unbiased) with the counter
        RNG, or to nearest; they are routed to devices by the mapping and ``update.depress``.

        Returns
        -------
        int64 array like ``dw``: signed pulses applied (``> 0`` potentiating).
        """
        dw = np.asarray(dw, np.float64)
        if dw.ndim != 2:
            raise ConfigError("dw", f"must be 2-D, not shape {dw.shape}")
        r, c = self._sel(rows, cols, dw.shape, "dw")
        if not np.all(np.isfinite(dw)):
            raise ConfigError("dw", "must be finite")
        counter = self._updates
        self._updates += 1
        n = K.round_pulses(np.ascontiguousarray(dw), r, c, self.n_out, self._step_pos, self._step_neg,
                           self.config.update.stochastic_rounding, self._kupd, counter)
        self._route_and_pulse(n, r, c, self._side(r, c))
        return n

    def apply_pulses(self, n_set, n_reset, rows=None, cols=None) -> None:
        """Apply integer pulse commands as the RTL's ``stdp_update`` emits them.

        ``n_set`` (potentiating) and ``n_reset`` (depressing) pulse counts, non-negative integers of
        shape ``(len(rows) or n_in, len(cols) or n_out)``, routed like :meth:`update`.  Where both are
        non-zero the SET train is applied first, then the RESET train (two write events).
        """
        ns = self._counts(n_set, "n_set")
        nr = self._counts(n_reset, "n_reset")
        if ns.shape != nr.shape:
            raise ConfigError("n_reset", f"must have the shape of n_set {ns.shape}, not {nr.shape}")
        r, c = self._sel(rows, cols, ns.shape, "n_set")
        if ns.any():
            self._route_and_pulse(ns, r, c, self._side(r, c))
        if nr.any():
            self._route_and_pulse(-nr, r, c, self._side(r, c))

    @staticmethod
    def _counts(x, field):
        a = np.asarray(x)
        if a.ndim != 2:
            raise ConfigError(field, f"must be 2-D, not shape {a.shape}")
        if a.dtype == bool or not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
            raise ConfigError(field, f"must hold integer pulse counts, not dtype {a.dtype}")
        if np.issubdtype(a.dtype, np.floating) and (not np.all(np.isfinite(a)) or np.any(a != np.round(a))):
            raise ConfigError(field, "must hold whole pulse counts")
        a = np.ascontiguousarray(a.astype(np.int64))
        if a.size and a.min() < 0:
            raise ConfigError(field, "pulse counts must be >= 0")
        return a

    def __repr__(self) -> str:
        m = self.config.mapping
        return (f"Crossbar({self.n_in}x{self.n_out}, scheme={m.scheme!r}, w=[{m.w_min}, {m.w_max}], "
                f"seed={self.seed}, time={self.time:g})")
