"""Event-camera data: a simulated N-MNIST-like sensor, N-MNIST files, and the engine's input.

An event camera (DVS/ATIS) reports, per pixel, a change of log intensity: when the log intensity
has risen by the pixel's ON contrast threshold since its last event, the pixel emits an ON event
(polarity 1), when it has fallen by its OFF threshold, an OFF event (polarity 0).  N-MNIST was
recorded by moving such a sensor in three saccades in front of the MNIST digits; this module
simulates that recording from a static image (:func:`simulate_events`), reads and writes the
N-MNIST binary format (:func:`read_nmnist`, :func:`write_nmnist`) and encodes events into the
boolean input raster of :meth:`hwsnn.engine.layer.LayerNetwork.present_raster`
(:func:`events_to_raster`).  :class:`EventDataset` is the ``task.dataset = "event_digits"`` /
``"event_mnist"`` dataset of ``hwsnn run``.

The simulated sensor (parameters: :class:`EventParams`, SI units)
--------------------------------------------------------------------
* **Motion.**  The image moves over the sensor (the sensor frame is the image frame, so an 8x8
  digit gives an 8x8 sensor) along an equilateral triangle of side ``amplitude`` pixels: three
  straight saccades of ``saccade_duration`` seconds each, at constant speed, starting and ending
  at the image's own position (:func:`saccade_path`).  A pixel at column ``x``, row ``y`` sees the
  intensity ``I(y - dy(t), x - dx(t))``, bilinearly interpolated (sub-pixel translations), zero
  outside the image.
* **Log intensity.**  ``L = ln(I + log_eps)`` with ``I`` in ``[0, 1]``.  The intensity is
  evaluated at the instants of a ``sim_dt`` grid and is linear in between; event times are the
  exact instants at which that piecewise-linear intensity crosses the pixel's trigger levels.
* **Comparator.**  Each pixel keeps a reference level ``L_ref`` (initially ``L`` at ``t = 0``).
  ``L - L_ref >= c_on`` gives an ON event and ``L_ref += c_on``; ``L - L_ref <= -c_off`` an OFF
  event and ``L_ref -= c_off``.  (The levels are computed from the event counts since the last
  reset, ``L_ref = L_reset + m_on c_on - m_off c_off``, so an intensity that returns to where it
  started returns exactly to its starting level.)  The thresholds of each pixel are ``threshold_on * (1 +
  threshold_mismatch * z)`` and ``threshold_off * (1 + threshold_mismatch * z')`` with ``z, z'``
  independent standard normals truncated at +-3 (redrawn beyond), fixed per seed: the sensor's
  fixed-pattern mismatch (:func:`pixel_thresholds`).
* **Refractory period.**  After any event (signal or noise) the pixel is held in reset for
  ``refractory`` seconds: it emits nothing, and at the end of the period its reference is set to
  the log intensity at that instant (changes during the reset are lost, as in a DVS pixel).
  Noise arrivals during the reset are lost too (a non-paralysable dead time).
* **Background noise.**  Each pixel receives Poisson noise arrivals at ``noise_rate`` Hz, each an
  event of random polarity (ON or OFF with probability 1/2) that resets the pixel like a signal
  event (its reference becomes the current log intensity).
* **Timing jitter.**  Every event time gets an independent Gaussian error of standard deviation
  ``jitter`` seconds, applied last (after the refractory period, so with jitter two events of a
  pixel can be closer than ``refractory``), reflected at the ends of the recording ``[0,
  duration]`` so that no event leaves it (``duration = 3 * saccade_duration``).

Random numbers are counter-based (:mod:`hwsnn.rng`): the mismatch is a function of the seed, the
noise and jitter of one recording a function of (seed, recording id), so a recording does not
depend on which other recordings were generated, or in which order.

Events are a structured array of dtype :data:`EVENT_DTYPE` (``x``, ``y`` pixel column and row,
``t`` in seconds, ``p`` polarity 1 = ON / 0 = OFF), sorted by time.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from numba import njit
from pydantic import Field, ValidationError, model_validator

from hwsnn.config.errors import config_error
from hwsnn.config.types import Float
from hwsnn.engine.contract import Params
from hwsnn.errors import ConfigError
from hwsnn.rng import key as rng_key
from hwsnn.rng import normal_array, uniform

__all__ = [
    "EVENT_DTYPE", "EventParams", "EncodedEvents", "EventDataset", "saccade_path", "pixel_thresholds",
    "simulate_events", "event_counts", "events_to_raster", "encode_events", "read_nmnist", "write_nmnist",
    "read_nmnist_folder", "NMNIST_SHAPE",
]

EVENT_DTYPE = np.dtype([("x", "<u2"), ("y", "<u2"), ("t", "<f8"), ("p", "u1")])
"""One event: pixel column ``x``, row ``y``, time ``t`` (s), polarity ``p`` (1 = ON, 0 = OFF)."""

NMNIST_SHAPE = (34, 34)
"""Sensor size (rows, columns) of the N-MNIST recordings."""

# counter-based random streams of the event sensor (hwsnn.rng.key(seed, stream))
_STREAM_ON = 0xE7E7_0001
_STREAM_OFF = 0xE7E7_0002
_STREAM_NOISE = 0xE7E7_0003
_STREAM_JITTER = 0xE7E7_0004
_TRUNCATE = 3.0  # mismatch normals are truncated at +-3 (redrawn)
_NMNIST_T_MAX = (1 << 23) - 1  # 23-bit microsecond timestamps


# ---------------------------------------------------------------------------------------------- parameters
class EventParams(Params):
    """The simulated event camera (``task.events``): saccades, contrast thresholds, noise, jitter.

    Used by the ``"event_digits"`` and ``"event_mnist"`` datasets and ignored by the static ones.
    Constructing it with a bad value raises :class:`hwsnn.errors.ConfigError` naming the field.
    """

    saccade_duration: Annotated[Float, Field(gt=0, le=10)] = 0.1
    """Duration of each of the three saccades (s); the recording lasts three times this (N-MNIST:
    about 0.1 s per saccade)."""
    amplitude: Annotated[Float, Field(gt=0, le=8)] = 1.0
    """Side of the triangle the image moves along (pixels); sub-pixel values are interpolated
    bilinearly."""
    threshold_on: Annotated[Float, Field(gt=0, le=10)] = 0.15
    """ON contrast threshold: rise of the natural log intensity that triggers an ON event."""
    threshold_off: Annotated[Float, Field(gt=0, le=10)] = 0.15
    """OFF contrast threshold: fall of the natural log intensity that triggers an OFF event."""
    threshold_mismatch: Annotated[Float, Field(ge=0, le=0.3)] = 0.03
    """Relative standard deviation of each pixel's thresholds (Gaussian, truncated at +-3 standard
    deviations, fixed per seed); at most 0.3 so that every threshold stays positive (0 = identical
    pixels)."""
    refractory: Annotated[Float, Field(ge=0, le=1)] = 1e-3
    """Refractory period of a pixel after each of its events (s)."""
    noise_rate: Annotated[Float, Field(ge=0, le=10_000)] = 0.2
    """Background noise events per pixel per second (Hz), Poisson, random polarity."""
    jitter: Annotated[Float, Field(ge=0, le=1)] = 1e-4
    """Standard deviation of the Gaussian error added to every event time (s)."""
    log_eps: Annotated[Float, Field(gt=0, le=10)] = 0.1
    """Offset added to the intensity (pixel values in ``[0, 1]``) before the logarithm, the dark
    level: ``L = ln(I + log_eps)``."""
    sim_dt: Annotated[Float, Field(gt=0, le=0.01)] = 1e-3
    """Sampling step of the intensity (s); the intensity is linear between samples and event times
    are its exact crossings of the trigger levels.  At most ``saccade_duration``."""

    def __init__(self, **data: Any):
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise config_error(exc, type(self), top=False) from None

    @model_validator(mode="after")
    def _steps(self):
        if self.sim_dt > self.saccade_duration:
            raise ConfigError("sim_dt", f"must be <= saccade_duration ({self.saccade_duration} s), got {self.sim_dt}")
        return self

    @property
    def duration(self) -> float:
        """Length of a recording (s): three saccades."""
        return 3.0 * self.saccade_duration


# ---------------------------------------------------------------------------------------------- motion, pixels
def saccade_path(params: EventParams) -> tuple[np.ndarray, np.ndarray]:
    """The three saccades: vertex times (s) and image offsets ``(dx, dy)`` (pixels).

    The image starts at its own position, moves right and down, then right and up, then back
    left to the start: an equilateral triangle of side ``a = params.amplitude`` traversed at
    constant speed, one side per saccade of ``params.saccade_duration`` (rows grow downwards, so
    ``dy > 0`` moves the image down).

    Returns
    -------
    times : numpy.ndarray
        ``(4,)``: ``0, T, 2T, 3T`` with ``T = params.saccade_duration``.
    offsets : numpy.ndarray
        ``(4, 2)``: ``(dx, dy)`` at those times: ``(0, 0)``, ``(a/2, a sqrt(3)/2)``, ``(a, 0)``,
        ``(0, 0)``.
    """
    a = float(params.amplitude)
    T = float(params.saccade_duration)
    times = np.array([0.0, T, 2.0 * T, 3.0 * T])
    offsets = np.array([[0.0, 0.0], [0.5 * a, 0.5 * math.sqrt(3.0) * a], [a, 0.0], [0.0, 0.0]])
    return times, offsets


def pixel_thresholds(params: EventParams, shape: tuple[int, int], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel ON and OFF contrast thresholds of the sensor of ``seed`` (fixed-pattern mismatch).

    ``c = threshold * (1 + threshold_mismatch * z)`` with ``z`` a standard normal truncated at +-3
    (values beyond are redrawn), independent for ON and OFF and per pixel; pixel ``k = y * W + x``
    draws index ``k`` of the seed's streams, so a larger sensor extends a smaller one's pattern.

    Returns
    -------
    c_on, c_off : numpy.ndarray
        float64, shape ``shape``.
    """
    h, w = _shape(shape, "shape")
    n = h * w
    out = []
    for stream, c in ((_STREAM_ON, params.threshold_on), (_STREAM_OFF, params.threshold_off)):
        z = normal_array(int(seed), stream, n, 0)
        redraw = 1
        bad = np.abs(z) > _TRUNCATE
        while bad.any():  # each redraw is a fresh counter of the same stream
            z = np.where(bad, normal_array(int(seed), stream, n, redraw), z)
            bad = np.abs(z) > _TRUNCATE
            redraw += 1
        out.append((float(c) * (1.0 + float(params.threshold_mismatch) * z)).reshape(h, w))
    return out[0], out[1]


def _shape(shape, name: str) -> tuple[int, int]:
    try:
        h, w = (int(s) for s in shape)
    except (TypeError, ValueError):
        raise ConfigError(name, f"must be (rows, columns), got {shape!r}") from None
    if h < 1 or w < 1:
        raise ConfigError(name, f"must be positive, got {shape!r}")
    return h, w


# ---------------------------------------------------------------------------------------------- simulation kernel
@njit(cache=True, inline="always")
def _next_noise(tn, j, knoise, idx, rate):
    """Next Poisson noise arrival after ``tn`` (arrival ``j + 1``; draw ``2 (j + 1)`` of the stream)."""
    j += 1
    return tn - math.log(uniform(knoise, idx, 2 * j)) / rate, j


@njit(cache=True, inline="always")
def _levels(base, m_on, m_off, con, coff):
    """The pixel's ON and OFF trigger levels (intensity + log_eps) after ``m_on`` ON and ``m_off`` OFF
    events since its last reset at level ``base``: ``base * exp(m_on con - m_off coff +- c)``.
    Computed from the counts (not accumulated), so returning to a count pair returns exactly to
    the same level."""
    return base * math.exp((m_on + 1) * con - m_off * coff), base * math.exp(m_on * con - (m_off + 1) * coff)


@njit(cache=True)
def _simulate(img, tgrid, ox, oy, c_on, c_off, refr, rate, log_eps, knoise, rec):
    """Events of one recording: (pixel index, time, polarity) arrays, in emission order.

    Time-outer loop over the ``tgrid`` segments; per pixel, the intensity (bilinear sample of the
    translated image, plus ``log_eps``) is linear within a segment and the comparator's events are
    its exact crossings of the pixel's trigger levels.  See the module docstring for the model.
    """
    h, w = img.shape
    n_pix = h * w
    K = tgrid.size - 1
    pad = int(math.ceil(max(np.abs(ox).max(), np.abs(oy).max()))) + 2
    pim = np.zeros((h + 2 * pad, w + 2 * pad))
    pim[pad:pad + h, pad:pad + w] = img
    prev = np.empty(n_pix)
    base = np.empty(n_pix)
    lev_on = np.empty(n_pix)
    lev_off = np.empty(n_pix)
    m_on = np.zeros(n_pix, np.int64)
    m_off = np.zeros(n_pix, np.int64)
    blocked = np.full(n_pix, -1.0)
    tn = np.full(n_pix, np.inf)
    jn = np.zeros(n_pix, np.int64)
    cap = 1024
    o_pix = np.empty(cap, np.int64)
    o_t = np.empty(cap, np.float64)
    o_p = np.empty(cap, np.uint8)
    n = 0
    for k in range(K + 1):
        # bilinear weights of this instant: the same for every pixel
        ry = -oy[k]
        rx = -ox[k]
        r0 = math.floor(ry)
        c0 = math.floor(rx)
        fr = ry - r0
        fc = rx - c0
        w00 = (1.0 - fr) * (1.0 - fc)
        w01 = (1.0 - fr) * fc
        w10 = fr * (1.0 - fc)
        w11 = fr * fc
        dr = int(r0) + pad
        dc = int(c0) + pad
        ta = tgrid[k - 1] if k > 0 else 0.0
        tb = tgrid[k]
        for pix in range(n_pix):
            y = pix // w
            cc = pix - y * w + dc
            row0 = pim[y + dr]
            row1 = pim[y + dr + 1]
            b = w00 * row0[cc] + w01 * row0[cc + 1] + w10 * row1[cc] + w11 * row1[cc + 1] + log_eps
            if k == 0:
                prev[pix] = b
                base[pix] = b
                lev_on[pix], lev_off[pix] = _levels(b, 0, 0, c_on[pix], c_off[pix])
                if rate > 0.0:
                    idx = np.uint64(rec) * np.uint64(n_pix) + np.uint64(pix)
                    tn[pix] = -math.log(uniform(knoise, idx, 0)) / rate
                continue
            a = prev[pix]
            prev[pix] = b
            if lev_off[pix] < b < lev_on[pix] and tn[pix] > tb and blocked[pix] <= ta:
                continue  # a (the end of the last segment) is inside the band too: no event in this one
            con = c_on[pix]
            coff = c_off[pix]
            idx = np.uint64(rec) * np.uint64(n_pix) + np.uint64(pix)
            s = (b - a) / (tb - ta)
            t = ta
            while True:
                if t < blocked[pix]:  # held in reset
                    if blocked[pix] > tb:
                        while tn[pix] < tb:  # noise arrivals during the reset are lost
                            tn[pix], jn[pix] = _next_noise(tn[pix], jn[pix], knoise, idx, rate)
                        break
                    while tn[pix] < blocked[pix]:
                        tn[pix], jn[pix] = _next_noise(tn[pix], jn[pix], knoise, idx, rate)
                    t = blocked[pix]
                    base[pix] = a + s * (t - ta)  # reference set at the end of the reset
                    m_on[pix] = 0
                    m_off[pix] = 0
                    lev_on[pix], lev_off[pix] = _levels(base[pix], 0, 0, con, coff)
                tc = np.inf
                pc = 0
                if s > 0.0 and b >= lev_on[pix]:
                    tc = ta + (lev_on[pix] - a) / s
                    pc = 1
                elif s < 0.0 and b <= lev_off[pix]:
                    tc = ta + (lev_off[pix] - a) / s
                if tc < t:  # rounding: a crossing cannot precede the current instant
                    tc = t
                elif tb < tc < np.inf:  # rounding: b is past the level, so it is crossed by tb
                    tc = tb
                if tn[pix] <= tb and tn[pix] <= tc:  # a noise event: random polarity, resets the pixel
                    t_ev = tn[pix]
                    pol = 1 if uniform(knoise, idx, 2 * jn[pix] + 1) < 0.5 else 0
                    base[pix] = a + s * (t_ev - ta)
                    m_on[pix] = 0
                    m_off[pix] = 0
                    tn[pix], jn[pix] = _next_noise(tn[pix], jn[pix], knoise, idx, rate)
                elif tc <= tb:
                    t_ev = tc
                    pol = pc
                    if pc == 1:
                        m_on[pix] += 1
                    else:
                        m_off[pix] += 1
                else:
                    break
                lev_on[pix], lev_off[pix] = _levels(base[pix], m_on[pix], m_off[pix], con, coff)
                if n == cap:
                    cap *= 2
                    a1 = np.empty(cap, np.int64)
                    a1[:n] = o_pix[:n]
                    o_pix = a1
                    a2 = np.empty(cap, np.float64)
                    a2[:n] = o_t[:n]
                    o_t = a2
                    a3 = np.empty(cap, np.uint8)
                    a3[:n] = o_p[:n]
                    o_p = a3
                o_pix[n] = pix
                o_t[n] = t_ev
                o_p[n] = pol
                n += 1
                t = t_ev
                blocked[pix] = t_ev + refr
    return o_pix[:n], o_t[:n], o_p[:n]


def simulate_events(
    image: np.ndarray,
    params: EventParams,
    seed: int = 0,
    recording: int = 0,
    *,
    path: tuple[np.ndarray, np.ndarray] | None = None,
    thresholds: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Simulate the event camera over one image (see the module docstring for the model).

    Parameters
    ----------
    image : numpy.ndarray
        Intensities in ``[0, 1]``, shape ``(H, W)``; the sensor has the same shape.
    params : EventParams
        Sensor and motion parameters.
    seed : int
        Seeds the pixel mismatch, the noise and the jitter.
    recording : int
        Recording id: the noise and jitter of a recording are a function of (seed, recording).
    path : (times, offsets), optional
        A piecewise-linear motion instead of the three saccades (:func:`saccade_path`): increasing
        vertex times (s) starting at 0, and the image offsets ``(dx, dy)`` (pixels) at them.  The
        recording lasts ``times[-1]``.
    thresholds : (c_on, c_off), optional
        Per-pixel thresholds (default: :func:`pixel_thresholds` of ``seed``).

    Returns
    -------
    numpy.ndarray
        Events of dtype :data:`EVENT_DTYPE`, sorted by time (ties in pixel order), all within
        ``[0, duration]``.
    """
    img = np.asarray(image, np.float64)
    if img.ndim != 2 or img.size == 0:
        raise ConfigError("image", f"must be a 2-D array (rows, columns), got shape {img.shape}")
    if not np.all(np.isfinite(img)) or img.min() < 0.0 or img.max() > 1.0:
        raise ConfigError("image", "intensities must be finite and in [0, 1]")
    if img.shape[0] > 65535 or img.shape[1] > 65535:
        raise ConfigError("image", f"at most 65535 rows and columns, got {img.shape}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError("seed", f"must be a non-negative integer, got {seed!r}")
    if isinstance(recording, bool) or not isinstance(recording, (int, np.integer)) or recording < 0:
        raise ConfigError("recording", f"must be a non-negative integer, got {recording!r}")
    times, offsets = saccade_path(params) if path is None else _check_path(path)
    duration = float(times[-1])
    n_steps = max(1, int(math.ceil(duration / params.sim_dt - 1e-9)))
    tgrid = np.linspace(0.0, duration, n_steps + 1)
    tgrid[-1] = duration
    ox = np.interp(tgrid, times, offsets[:, 0])
    oy = np.interp(tgrid, times, offsets[:, 1])
    c_on, c_off = pixel_thresholds(params, img.shape, seed) if thresholds is None else thresholds
    c_on = np.ascontiguousarray(c_on, np.float64).reshape(-1)
    c_off = np.ascontiguousarray(c_off, np.float64).reshape(-1)
    if c_on.size != img.size or c_off.size != img.size or min(c_on.min(), c_off.min()) <= 0:
        raise ConfigError("thresholds", f"must be two positive arrays of shape {img.shape}")
    pix, t, p = _simulate(np.ascontiguousarray(img), tgrid, ox, oy, c_on, c_off, float(params.refractory),
                          float(params.noise_rate), float(params.log_eps), np.uint64(rng_key(int(seed), _STREAM_NOISE)),
                          np.int64(recording))
    order = np.argsort(t, kind="stable")
    pix, t, p = pix[order], t[order], p[order]
    if params.jitter > 0 and t.size:
        t = t + params.jitter * normal_array(int(seed), _STREAM_JITTER, t.size, int(recording))
        t = _reflect(t, duration)
        order = np.argsort(t, kind="stable")
        pix, t, p = pix[order], t[order], p[order]
    w = img.shape[1]
    ev = np.empty(t.size, EVENT_DTYPE)
    ev["x"] = pix % w
    ev["y"] = pix // w
    ev["t"] = t
    ev["p"] = p
    return ev


def _reflect(t: np.ndarray, duration: float) -> np.ndarray:
    """Fold times into ``[0, duration]`` by reflection at both ends."""
    u = np.mod(t, 2.0 * duration)
    return np.where(u > duration, 2.0 * duration - u, u)


def _check_path(path) -> tuple[np.ndarray, np.ndarray]:
    try:
        times, offsets = path
    except (TypeError, ValueError):
        raise ConfigError("path", "must be (times, offsets)") from None
    times = np.asarray(times, np.float64)
    offsets = np.asarray(offsets, np.float64)
    if times.ndim != 1 or times.size < 2 or offsets.shape != (times.size, 2):
        raise ConfigError("path", f"needs times (n >= 2,) and offsets (n, 2), got {times.shape} and {offsets.shape}")
    if not (np.all(np.isfinite(times)) and np.all(np.isfinite(offsets))):
        raise ConfigError("path", "must be finite")
    if times[0] != 0.0 or np.any(np.diff(times) <= 0):
        raise ConfigError("path", "times must start at 0 and increase")
    return times, offsets


def event_counts(events: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Events per polarity and pixel: int64 array ``(2, H, W)``, index 0 = OFF, 1 = ON."""
    h, w = _shape(shape, "shape")
    ev = _check_events(events, (h, w))
    out = np.zeros((2, h, w), np.int64)
    np.add.at(out, (ev["p"].astype(np.int64), ev["y"].astype(np.int64), ev["x"].astype(np.int64)), 1)
    return out


def _check_events(events, shape: tuple[int, int] | None = None) -> np.ndarray:
    ev = np.asarray(events)
    if ev.dtype.names is None or not {"x", "y", "t", "p"} <= set(ev.dtype.names) or ev.ndim != 1:
        raise ConfigError("events", f"must be a 1-D structured array with fields x, y, t, p, got {ev.dtype}")
    if ev.size:
        if not np.all(np.isfinite(ev["t"])):
            raise ConfigError("events", "times must be finite")
        if not np.all((ev["p"] == 0) | (ev["p"] == 1)):
            raise ConfigError("events", "polarities must be 0 (OFF) or 1 (ON)")
        if shape is not None and (ev["x"].max() >= shape[1] or ev["y"].max() >= shape[0]
                                  or ev["x"].min() < 0 or ev["y"].min() < 0):
            raise ConfigError("events", f"pixel addresses outside the sensor of shape {shape}")
    return ev


# ---------------------------------------------------------------------------------------------- encoder
@dataclass(frozen=True)
class EncodedEvents:
    """Recordings encoded for the engine: per recording, the (step, channel) pairs of its input spikes.

    Channel ``y * W + x`` is the ON channel of pixel ``(x, y)``, ``H * W + y * W + x`` its OFF
    channel (``n_in = 2 * H * W``).  Recording ``i`` owns ``steps[ptr[i]:ptr[i + 1]]`` and the
    same slice of ``channels``, sorted by step then channel, without repeats.
    """

    ptr: np.ndarray
    """int64 ``(n + 1,)`` offsets of each recording's pairs."""
    steps: np.ndarray
    """int32 time step of each input spike, ``0 .. n_steps - 1``."""
    channels: np.ndarray
    """int32 input channel of each input spike."""
    n_steps: int
    """Steps of the presentation window."""
    n_in: int
    """Input channels (``2 * H * W``)."""
    merged: np.ndarray
    """int64 ``(n,)``: per recording, the events that fell into a step where their channel already
    had one (the engine's inputs are binary: two events of a channel in one step are one input
    spike)."""
    n_events: np.ndarray
    """int64 ``(n,)``: events of each recording (including the merged ones)."""

    def __len__(self) -> int:
        return int(self.ptr.size - 1)

    def raster(self, i: int) -> np.ndarray:
        """Bool raster ``(n_steps, n_in)`` of recording ``i`` (for ``LayerNetwork.present_raster``)."""
        r = np.zeros((self.n_steps, self.n_in), bool)
        a, b = int(self.ptr[i]), int(self.ptr[i + 1])
        r[self.steps[a:b], self.channels[a:b]] = True
        return r

    def take(self, n: int) -> "EncodedEvents":
        """The first ``n`` recordings."""
        end = int(self.ptr[n])
        return EncodedEvents(self.ptr[:n + 1], self.steps[:end], self.channels[:end], self.n_steps, self.n_in,
                             self.merged[:n], self.n_events[:n])


def encode_events(events: np.ndarray, shape: tuple[int, int], n_steps: int,
                  duration: float | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Map one recording onto ``n_steps`` presentation steps.

    The recording span ``[0, duration]`` is scaled onto the presentation window: an event at time
    ``t`` falls into step ``floor(t / duration * n_steps)`` (``t == duration`` into the last
    step), so a presentation of ``t_present`` seconds replays the recording ``t_present /
    duration`` times slower (or faster).  Nothing is dropped: an event outside ``[0, duration]``
    is an error.

    Parameters
    ----------
    events : numpy.ndarray
        Events (:data:`EVENT_DTYPE`).
    shape : (int, int)
        Sensor rows and columns.
    n_steps : int
        Steps of the presentation window (``LayerNetwork.n_on``).
    duration : float, optional
        Recording span (s); default: the latest event time (each recording scaled on its own).

    Returns
    -------
    steps, channels : numpy.ndarray
        int32 pairs (sorted by step, then channel, without repeats).
    merged : int
        Events that coincided with another event of the same channel in the same step.
    """
    h, w = _shape(shape, "shape")
    ev = _check_events(events, (h, w))
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
        raise ConfigError("n_steps", f"must be a positive integer, got {n_steps!r}")
    t = ev["t"].astype(np.float64)
    if duration is None:
        duration = float(t.max()) if t.size else 1.0
        if duration <= 0:
            duration = 1.0
    duration = float(duration)
    if not (math.isfinite(duration) and duration > 0):
        raise ConfigError("duration", f"must be a positive number of seconds, got {duration!r}")
    if t.size and (t.min() < 0 or t.max() > duration):
        out = int(np.count_nonzero((t < 0) | (t > duration)))
        raise ConfigError("duration", f"{out} of {t.size} events lie outside the recording span [0, {duration:g}] s "
                                      f"(times {t.min():g} .. {t.max():g} s); give the recording's real length")
    step = np.minimum(np.floor(t * (n_steps / duration)).astype(np.int64), n_steps - 1)
    n_pix = h * w
    ch = ev["y"].astype(np.int64) * w + ev["x"].astype(np.int64) + np.where(ev["p"] == 1, 0, n_pix)
    code = np.unique(step * (2 * n_pix) + ch)
    merged = int(t.size - code.size)
    return (code // (2 * n_pix)).astype(np.int32), (code % (2 * n_pix)).astype(np.int32), merged


def events_to_raster(events: np.ndarray, shape: tuple[int, int], n_steps: int,
                     duration: float | None = None) -> np.ndarray:
    """Bool input raster ``(n_steps, 2 * H * W)`` of one recording (ON channels, then OFF channels).

    See :func:`encode_events` for the time mapping (the recording is scaled onto the window;
    events outside ``[0, duration]`` are an error, never dropped).
    """
    h, w = _shape(shape, "shape")
    steps, ch, _ = encode_events(events, (h, w), n_steps, duration)
    r = np.zeros((int(n_steps), 2 * h * w), bool)
    r[steps, ch] = True
    return r


# ---------------------------------------------------------------------------------------------- N-MNIST files
def read_nmnist(path: str | os.PathLike, *, field_name: str = "path") -> np.ndarray:
    """Read an N-MNIST binary file (``.bin``): 5 bytes per event.

    Each event is 40 bits, most significant first: bits 39-32 the x address, 31-24 the y
    address (pixels, from 0), bit 23 the polarity (1 = ON, 0 = OFF), bits 22-0 the timestamp in
    microseconds.

    Returns
    -------
    numpy.ndarray
        Events (:data:`EVENT_DTYPE`, ``t`` in seconds), stably sorted by time (the file's own
        order when it is already in time order, as N-MNIST files are).

    Raises
    ------
    ConfigError
        Missing file, or a length that is not a whole number of events (naming the file).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(field_name, f"file not found: {path}")
    raw = path.read_bytes()
    if len(raw) % 5:
        raise ConfigError(field_name, f"{path}: {len(raw)} bytes is not a whole number of 5-byte N-MNIST events "
                                      f"({len(raw) % 5} trailing bytes; truncated or not an N-MNIST file?)")
    b = np.frombuffer(raw, np.uint8).reshape(-1, 5).astype(np.int64)
    ts = ((b[:, 2] & 0x7F) << 16) | (b[:, 3] << 8) | b[:, 4]
    ev = np.empty(b.shape[0], EVENT_DTYPE)
    ev["x"] = b[:, 0]
    ev["y"] = b[:, 1]
    ev["p"] = b[:, 2] >> 7
    ev["t"] = ts / 1e6
    order = np.argsort(ts, kind="stable")
    return ev[order]


def write_nmnist(path: str | os.PathLike, events: np.ndarray) -> Path:
    """Write events as an N-MNIST binary file (atomically; see :func:`read_nmnist` for the layout).

    Times are rounded to the nearest microsecond; addresses must fit in 8 bits and timestamps in
    23 bits (``t <= 8.388607`` s).  Events are written in the given order.
    """
    from hwsnn.io import atomic_write

    ev = _check_events(events)
    if ev.size:
        x, y = ev["x"].astype(np.int64), ev["y"].astype(np.int64)
        if x.min() < 0 or y.min() < 0 or x.max() > 255 or y.max() > 255:
            raise ConfigError("events", "N-MNIST addresses are 8-bit: x and y must be in [0, 255]")
        us = np.rint(ev["t"].astype(np.float64) * 1e6)
        if us.min() < 0 or us.max() > _NMNIST_T_MAX:
            raise ConfigError("events", f"N-MNIST timestamps are 23-bit microseconds: t must be in [0, "
                                        f"{_NMNIST_T_MAX * 1e-6:.6f}] s, got {ev['t'].min():g} .. {ev['t'].max():g}")
        us = us.astype(np.int64)
        b = np.empty((ev.size, 5), np.uint8)
        b[:, 0] = x
        b[:, 1] = y
        b[:, 2] = (ev["p"].astype(np.int64) << 7) | (us >> 16)
        b[:, 3] = (us >> 8) & 0xFF
        b[:, 4] = us & 0xFF
        data = b.tobytes()
    else:
        data = b""

    def _w(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)

    return atomic_write(path, _w)


def read_nmnist_folder(folder: str | os.PathLike) -> tuple[list[np.ndarray], np.ndarray]:
    """Read an N-MNIST split folder: subfolders ``0`` .. ``9`` of ``.bin`` files (the dataset's layout).

    Returns the recordings (in label order, then file name order) and their labels (int64).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError("folder", f"not a folder: {folder}")
    recs: list[np.ndarray] = []
    labels: list[int] = []
    for label in range(10):
        sub = folder / str(label)
        if not sub.is_dir():
            continue
        for f in sorted(sub.glob("*.bin")):
            recs.append(read_nmnist(f))
            labels.append(label)
    if not recs:
        raise ConfigError("folder", f"{folder}: no N-MNIST files (expected subfolders 0..9 holding .bin files)")
    return recs, np.asarray(labels, np.int64)


# ---------------------------------------------------------------------------------------------- dataset
@dataclass(frozen=True)
class EventDataset:
    """An event-camera dataset simulated from a static one (``"event_digits"``, ``"event_mnist"``).

    The split is the static dataset's (same seed, same samples); each image is recorded by the
    simulated sensor (:func:`simulate_events`) with the dataset's seed, its recording id being the
    image's index in the full static set.  Recordings are made on first use and kept in memory:
    :meth:`encoded` caches the engine's input per (split, presentation steps), so training epochs
    and the labelling and test passes reuse them.

    ``x_train`` / ``x_test`` are the per-channel event counts of each recording (float64, ON
    channels then OFF channels, shape ``(n, 2 * H * W)``), the non-spiking view used by the
    k-means reference; ``image_shape`` is ``(2 * H, W)``, the ON plane above the OFF plane, the
    layout of one input vector (receptive-field plots).
    """

    name: str
    """``"event_digits"`` or ``"event_mnist"``."""
    images_train: np.ndarray = field(repr=False)
    """Training images, float64 ``(n_train, H, W)`` in ``[0, 1]``."""
    y_train: np.ndarray = field(repr=False)
    """Training labels, int64."""
    ids_train: np.ndarray = field(repr=False)
    """Recording ids (indices in the full static dataset) of the training images."""
    images_test: np.ndarray = field(repr=False)
    """Test images."""
    y_test: np.ndarray = field(repr=False)
    """Test labels."""
    ids_test: np.ndarray = field(repr=False)
    """Recording ids of the test images."""
    params: EventParams = field(default_factory=EventParams)
    """The sensor."""
    seed: int = 0
    """Seed of the split, the sensor mismatch, the noise and the jitter."""
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    # -- the Dataset interface ----------------------------------------------------------------
    @property
    def sensor_shape(self) -> tuple[int, int]:
        """Sensor rows and columns (the images' shape)."""
        return int(self.images_train.shape[1]), int(self.images_train.shape[2])

    @property
    def image_shape(self) -> tuple[int, int]:
        """Layout of one input vector: ``(2 * H, W)``, ON channels above OFF channels."""
        h, w = self.sensor_shape
        return 2 * h, w

    @property
    def n_in(self) -> int:
        """Input channels: ``2 * H * W`` (ON and OFF per pixel)."""
        h, w = self.sensor_shape
        return 2 * h * w

    @property
    def n_train(self) -> int:
        """Number of training samples."""
        return int(self.y_train.shape[0])

    @property
    def n_test(self) -> int:
        """Number of test samples."""
        return int(self.y_test.shape[0])

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return int(max(self.y_train.max(), self.y_test.max())) + 1

    @property
    def duration(self) -> float:
        """Length of every recording (s)."""
        return self.params.duration

    @property
    def x_train(self) -> np.ndarray:
        """Per-channel event counts of the training recordings, float64 ``(n_train, n_in)``."""
        return self._counts("train")

    @property
    def x_test(self) -> np.ndarray:
        """Per-channel event counts of the test recordings, float64 ``(n_test, n_in)``."""
        return self._counts("test")

    # -- recordings -----------------------------------------------------------------------------
    def _split(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        if split == "train":
            return self.images_train, self.ids_train
        if split == "test":
            return self.images_test, self.ids_test
        raise ConfigError("split", f"must be 'train' or 'test', got {split!r}")

    def _thresholds(self):
        if "thr" not in self._cache:
            self._cache["thr"] = pixel_thresholds(self.params, self.sensor_shape, self.seed)
        return self._cache["thr"]

    def events(self, split: str, i: int) -> np.ndarray:
        """The recording of sample ``i`` of ``split`` (``"train"`` or ``"test"``)."""
        images, ids = self._split(split)
        return simulate_events(images[i], self.params, self.seed, int(ids[i]), thresholds=self._thresholds())

    def _counts(self, split: str) -> np.ndarray:
        k = ("counts", split)
        if k not in self._cache:
            images, _ = self._split(split)
            h, w = self.sensor_shape
            out = np.empty((images.shape[0], 2 * h * w), np.float64)
            for i in range(images.shape[0]):
                c = event_counts(self.events(split, i), (h, w))
                out[i] = np.concatenate([c[1].ravel(), c[0].ravel()])
            out.setflags(write=False)
            self._cache[k] = out
        return self._cache[k]

    def encoded(self, split: str, n_steps: int, n: int | None = None) -> EncodedEvents:
        """The first ``n`` recordings of ``split`` encoded onto ``n_steps`` presentation steps
        (:func:`encode_events` with the recording span ``[0, duration]``), cached in memory."""
        images, _ = self._split(split)
        total = images.shape[0]
        n = total if n is None else int(n)
        if not 0 <= n <= total:
            raise ConfigError("n", f"must be in [0, {total}], got {n}")
        k = ("enc", split, int(n_steps))
        have = self._cache.get(k)
        if have is None or len(have) < n:
            start = 0 if have is None else len(have)
            ptr = [0] if have is None else [int(v) for v in have.ptr]
            st = [] if have is None else [have.steps]
            ch = [] if have is None else [have.channels]
            merged = [] if have is None else have.merged.tolist()
            n_ev = [] if have is None else have.n_events.tolist()
            for i in range(start, n):
                ev = self.events(split, i)
                s, c, m = encode_events(ev, self.sensor_shape, int(n_steps), self.duration)
                st.append(s)
                ch.append(c)
                ptr.append(ptr[-1] + s.size)
                merged.append(m)
                n_ev.append(ev.size)
            have = EncodedEvents(np.asarray(ptr, np.int64), np.concatenate(st) if st else np.zeros(0, np.int32),
                                 np.concatenate(ch) if ch else np.zeros(0, np.int32), int(n_steps), self.n_in,
                                 np.asarray(merged, np.int64), np.asarray(n_ev, np.int64))
            self._cache[k] = have
        return have if len(have) == n else have.take(n)
