"""Numba kernels of the device model (numerics only; the physics is documented in ``params``).

State is structure-of-arrays over the flat device index ``i = row*cols + col``:
``gl`` (long-term state at its last write, float32), ``gs`` (volatile state at its last event,
float32), ``tw``/``te`` (time of last write / volatile event, float64), ``ev`` (per-device write
event counter, int64).  Per-device constants drawn at construction: ``gmin``, ``gmax`` (S),
``ap``/``ad`` (exponential-law A in pulses, 0 = linear law), ``bp``/``bd`` (normalised B),
``su``/``sd`` (normalised linear step per pulse), ``nu`` (drift exponent), ``tau`` (volatile time
constant), ``stuck`` (0 ok, 1 min, 2 max, 3 random).

Time is lazy: drift and volatile decay are closed forms evaluated only when a device is read or
written.  Random numbers come from :mod:`hwsnn.rng` keyed by (seed, stream, device index,
per-device event counter), so results do not depend on thread count or call order.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic

from hwsnn.engine.kernel import enable_compile_notice
from hwsnn.rng import bits64, normal, normal_first, uniform

enable_compile_notice()  # the "compiling kernels, first run only" line of the command line

# -- indices into the packed float parameter vector ``fp`` ---------------------------------------
F_C2C_MULT, F_C2C_ADD, F_ST_AMP, F_ST_MAX, F_ST_NOISE, F_CONSOL_RATE, F_CONSOL_THETA = range(7)
F_DRIFT_T0, F_DRIFT_G_REST, F_DRIFT_ON, F_READ_NOISE, F_READ_NOISE_ADD, F_T_READ = range(7, 13)
F_VW, F_TPW, F_CLINE, F_TAU_SCALE, F_G_MAX_NOM = range(13, 18)
F_GAMMA_UP, F_GAMMA_DN, F_EXP_A_UP, F_EXP_A_DN, F_EXP_G_UP, F_EXP_G_DN, F_EXP_A, F_EXP_B = range(18, 26)
N_FP = 26
# -- indices into the int parameter vector ``ip`` --------------------------------------------------
I_LAW, I_DRIFT, I_READ, I_LEVELS = range(4)
N_IP = 4

LAW_CODES = {"neurosim": 0, "constant": 1, "linear": 2, "softbounds": 3, "exp": 4, "pow": 5}
DRIFT_CODES = {"power": 0, "pcm": 1}
READ_CODES = {"normal": 0, "pcm1f": 1}

# fast-math without nnan/ninf: lets LLVM contract and use approximate-function lowering while the
# isinf/isnan checks stay meaningful
FM = {"nsz", "arcp", "contract", "afn", "reassoc"}

STREAM_WRITE, STREAM_ST, STREAM_READ, STREAM_D2D, STREAM_FAULT, STREAM_NU = 1, 2, 3, 4, 5, 6


# ------------------------------------------------------------------------------------------------
# branch-free exp/log (Cody-Waite reduction + polynomial, ~1e-14 relative): unlike libm calls they
# inline into loops that LLVM can vectorise (pip llvmlite has no SVML)
@intrinsic
def _f64_bits(typingctx, x):
    sig = types.int64(types.float64)
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return sig, codegen

@intrinsic
def _bits_f64(typingctx, x):
    sig = types.float64(types.int64)
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return sig, codegen

@intrinsic
def _vsqrt(typingctx, x):
    """``llvm.sqrt`` (vectorisable; Numba's ``math.sqrt`` lowers to an opaque libm call)."""
    sig = types.float64(types.float64)

    def codegen(context, builder, signature, args):
        fn = builder.module.declare_intrinsic("llvm.sqrt", [ir.DoubleType()])
        return builder.call(fn, args)

    return sig, codegen


_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_SQRT2 = 1.4142135623730951

@njit(cache=True, inline="always", fastmath=FM)
def fexp(x):
    x = x if x > -708.0 else -708.0  # (builtin min/max lower to calls: not vectorisable)
    x = x if x < 709.0 else 709.0
    kf = math.floor(x * _LOG2E + 0.5)
    r = (x - kf * _LN2_HI) - kf * _LN2_LO
    p = 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    return p * _bits_f64((np.int64(kf) + np.int64(1023)) << np.int64(52))

@njit(cache=True, inline="always", fastmath=FM)
def flog(x):
    b = _f64_bits(x)
    e = (b >> np.int64(52)) - np.int64(1023)
    m = _bits_f64((b & np.int64(0x000FFFFFFFFFFFFF)) | np.int64(0x3FF0000000000000))
    big = m > _SQRT2
    m = 0.5 * m if big else m
    ef = np.float64(e + (np.int64(1) if big else np.int64(0)))
    f = m - 1.0
    s = f / (2.0 + f)
    s2 = s * s
    q = 1.0 / 19.0
    q = q * s2 + 1.0 / 17.0
    q = q * s2 + 1.0 / 15.0
    q = q * s2 + 1.0 / 13.0
    q = q * s2 + 1.0 / 11.0
    q = q * s2 + 1.0 / 9.0
    q = q * s2 + 1.0 / 7.0
    q = q * s2 + 1.0 / 5.0
    q = q * s2 + 1.0 / 3.0
    lf = 2.0 * s + 2.0 * s * s2 * q
    return ef * _LN2_HI + (ef * _LN2_LO + lf)

# ------------------------------------------------------------------------------------------------
# key salt of a device's second read-noise draw (the additive term)
_SALT2 = np.uint64(0xE7037ED1A0B428DB)


# ------------------------------------------------------------------------------------------------
# NeuroSim label -> A/Pmax (same rule as params.nl_to_a, usable inside kernels)
@njit(cache=True)
def _dev_max(a):
    e = -math.expm1(-1.0 / a)
    p = -a * math.log(a * e)
    if p < 0.0:
        p = 0.0
    if p > 1.0:
        p = 1.0
    return -math.expm1(-p / a) / e - p


@njit(cache=True)
def nl_to_a_nb(nl):
    """Normalised A/Pmax for NeuroSim label ``nl`` (``inf`` for 0)."""
    nl = abs(nl)
    if nl == 0.0:
        return np.inf
    target = nl / 10.0
    if target >= 0.999:
        return 1e-6
    lo = math.log(1e-6)
    hi = math.log(1e6)
    for _ in range(64):
        mid = 0.5 * (lo + hi)
        if _dev_max(math.exp(mid)) > target:
            lo = mid
        else:
            hi = mid
    return math.exp(0.5 * (lo + hi))


# ------------------------------------------------------------------------------------------------
# lazy time evolution
@njit(cache=True, inline="always")
def lt_eff(gl, tw, nu, t, fp):
    """Long-term state after power-law relaxation toward ``g_rest`` since the last write."""
    if fp[F_DRIFT_ON] != 0.0 and nu > 0.0 and t > tw:
        rest = fp[F_DRIFT_G_REST]
        # log(1 + x) rather than log1p: the absolute error (~1e-16) it adds for tiny x is far below
        # float32 state resolution; fexp/flog: the same arithmetic as the vectorised block kernels
        return rest + (gl - rest) * fexp(-nu * flog(1.0 + (t - tw) / fp[F_DRIFT_T0]))
    return np.float64(gl)


@njit(cache=True, inline="always")
def st_eff(gs, te, tau, t, fp):
    """Volatile state after exponential decay since the last volatile event."""
    if gs != 0.0 and t > te:
        return gs * fexp(-(t - te) / (tau * fp[F_TAU_SCALE]))
    return np.float64(gs)


@njit(cache=True, inline="always")
def _clip01(x):
    if x < 0.0:
        return 0.0
    if x > 1.0:
        return 1.0
    return x


@njit(cache=True, inline="always")
def g_of(i, t, gl, gs, tw, te, nu, tau, gmin, gmax, stuck, fp):
    """Noise-free conductance (S) of device ``i`` at time ``t``."""
    lo = np.float64(gmin[i])
    w = np.float64(gmax[i]) - lo
    if stuck[i] != 0:
        return lo + w * gl[i]
    x = lt_eff(gl[i], tw[i], nu[i], t, fp) + st_eff(gs[i], te[i], tau[i], t, fp)
    return lo + w * _clip01(x)


# ------------------------------------------------------------------------------------------------
# pulse-response laws (noise-free); l in [0, 1], n signed pulse count
@njit(cache=True)
def _clipw(w):
    if w < -1.0:
        return -1.0
    if w > 1.0:
        return 1.0
    return w


@njit(cache=True)
def law_step(law, l, n, ap, bp, ad, bd, su, sd, fp):
    """Long-term state after ``n`` pulses (``n > 0`` SET, ``n < 0`` RESET), noise-free."""
    if n == 0:
        return l
    m = abs(n)
    if law == 0:  # NeuroSim exponential law, closed form for m pulses
        if n > 0:
            if ap > 0.0:
                x = bp - (bp - l) * math.exp(-m / ap)
            else:
                x = l + m * su
        else:
            u = 1.0 - l
            if ad > 0.0:
                u = bd - (bd - u) * math.exp(-m / ad)
            else:
                u = u + m * sd
            x = 1.0 - u
        return _clip01(x)
    # aihwkit laws in the weight coordinate w = 2 l - 1 on [-1, 1]; dw = 2 * step
    w = 2.0 * l - 1.0
    dwu = 2.0 * su
    dwd = 2.0 * sd
    if law == 1:  # ConstantStep
        w = w + m * dwu if n > 0 else w - m * dwd
        return 0.5 * (_clipw(w) + 1.0)
    if law == 2 or law == 3:  # LinearStep (SoftBounds: gamma = 1), closed form of the recursion
        gu = 1.0 if law == 3 else fp[F_GAMMA_UP]
        gd = 1.0 if law == 3 else fp[F_GAMMA_DN]
        if n > 0:
            if gu > 1e-300:  # gamma -> 0 is the linear law (1/gamma would overflow)
                ws = 1.0 / gu
                w = ws + (w - ws) * (1.0 - dwu * gu) ** m
            else:
                w = w + m * dwu
        else:
            if gd > 1e-300:
                ws = -1.0 / gd
                w = ws + (w - ws) * (1.0 - dwd * gd) ** m
            else:
                w = w - m * dwd
        return 0.5 * (_clipw(w) + 1.0)
    if law == 4:  # ExpStep, per pulse
        for _ in range(m):
            z = fp[F_EXP_A] * w + fp[F_EXP_B]  # 2 a w / (b_max - b_min) + b with b_max - b_min = 2
            # signs as in aihwkit's rpu_expstep_device.cpp (docs/devices.md, aihwkit per-pulse laws)
            if n > 0:
                y = 1.0 - fp[F_EXP_A_UP] * math.exp(fp[F_EXP_G_UP] * z)
                if y > 0.0:
                    w = _clipw(w + y * dwu)
            else:
                y = 1.0 - fp[F_EXP_A_DN] * math.exp(-fp[F_EXP_G_DN] * z)
                if y > 0.0:
                    w = _clipw(w - y * dwd)
        return 0.5 * (w + 1.0)
    # law == 5: PowStep, per pulse; omega = (b_max - w) / (b_max - b_min)
    for _ in range(m):
        om = 0.5 * (1.0 - w)
        if n > 0:
            w = _clipw(w + dwu * om ** fp[F_GAMMA_UP])
        else:
            w = _clipw(w - dwd * (1.0 - om) ** fp[F_GAMMA_DN])
    return 0.5 * (w + 1.0)


@njit(cache=True)
def law_inverse(law, l, target, ap, bp, ad, bd, su, sd, fp, n_cap):
    """Signed pulse count whose noise-free result is closest to ``target`` (normalised)."""
    if target > 1.0:
        target = 1.0
    if target < 0.0:
        target = 0.0
    if target == l:
        return 0
    up = target > l
    # continuous estimate where a closed-form inverse exists
    est = -1.0
    if law == 0:
        if up:
            if ap > 0.0:
                t = min(target, bp - 1e-12)
                est = ap * math.log((bp - l) / (bp - t))
            else:
                est = (target - l) / su
        else:
            u0 = 1.0 - l
            ut = 1.0 - target
            if ad > 0.0:
                ut = min(ut, bd - 1e-12)
                est = ad * math.log((bd - u0) / (bd - ut))
            else:
                est = (ut - u0) / sd
    elif law == 1:
        est = (target - l) / su if up else (l - target) / sd
    if est >= 0.0:
        k = np.int64(min(math.floor(est), n_cap))
        if k < 0:
            k = 0
        best = k
        bestd = 1e300
        for c in range(k, min(k + 2, n_cap + 1)):
            v = law_step(law, l, c if up else -c, ap, bp, ad, bd, su, sd, fp)
            d = abs(v - target)
            if d < bestd:
                bestd = d
                best = c
        return best if up else -best
    # no closed-form inverse: step pulse by pulse until the target is passed or progress stops
    x = l
    bestd = abs(x - target)
    best = 0
    for c in range(1, n_cap + 1):
        x2 = law_step(law, x, 1 if up else -1, ap, bp, ad, bd, su, sd, fp)
        d = abs(x2 - target)
        if d < bestd:
            bestd = d
            best = c
        if (up and x2 >= target) or ((not up) and x2 <= target) or x2 == x:
            break
        x = x2
    return best if up else -best


# ------------------------------------------------------------------------------------------------
# one write event
def _write_one_py(i, n, t, gl, gs, tw, te, ev, gmin, gmax, ap, bp, ad, bd, su, sd, nu, tau, stuck,
               fp, ip, kw, ks, knu):
    """Apply ``n`` pulses to device ``i`` at time ``t``; return the event's write energy (J)."""
    if n == 0:
        return 0.0
    v2 = fp[F_VW] * fp[F_VW]
    m = abs(n)
    lo = np.float64(gmin[i])
    win = np.float64(gmax[i]) - lo
    if stuck[i] != 0:  # the pulse still charges the device and the line, but changes nothing
        return v2 * (lo + win * gl[i]) * fp[F_TPW] * m + v2 * fp[F_CLINE] * m
    law = ip[I_LAW]
    l = lt_eff(gl[i], tw[i], nu[i], t, fp)
    s = st_eff(gs[i], te[i], tau[i], t, fp)
    g_before = lo + win * _clip01(l + s)
    c = ev[i]
    ev[i] = c + 1
    d = law_step(law, l, n, ap[i], bp[i], ad[i], bd[i], su[i], sd[i], fp) - l
    cm = fp[F_C2C_MULT]
    ca = fp[F_C2C_ADD]
    a_s = fp[F_ST_AMP]
    st_on = n > 0 and a_s > 0.0
    need_st = st_on and fp[F_ST_NOISE] != 0.0
    z1 = 0.0
    z2 = 0.0
    if cm != 0.0 or ca != 0.0 or need_st:
        z1 = normal(kw, i, c)  # write noise
        if need_st:
            z2 = normal(ks, i, c)  # volatile increment noise
    if cm != 0.0 or ca != 0.0:
        # d (1 + cm xi1) + ca sqrt(m) xi2 is Gaussian with variance (cm d)^2 + ca^2 m: one draw
        d = d + math.sqrt((cm * d) ** 2 + ca * ca * m) * z1
    l2 = _clip01(l + d)
    if st_on:
        smax = fp[F_ST_MAX]
        # m back-to-back soft-bounded increments: s_max - (s_max - s)(1 - a/s_max)^m
        q = 1.0 - a_s / smax
        if m <= 8:
            qm = q
            for _ in range(m - 1):
                qm *= q
        else:
            qm = q**m
        inc = (smax - s) * (1.0 - qm)
        if need_st:
            inc *= 1.0 + fp[F_ST_NOISE] * z2
        s = s + inc
        if s < 0.0:
            s = 0.0
        if s > smax:
            s = smax
        rate = fp[F_CONSOL_RATE]
        if rate > 0.0 and s > fp[F_CONSOL_THETA]:
            mv = rate * (s - fp[F_CONSOL_THETA])
            s -= mv
            l2 = _clip01(l2 + mv)
    lev = ip[I_LEVELS]
    if lev >= 2:
        l2 = np.floor(l2 * (lev - 1) + 0.5) / (lev - 1)
    gl[i] = l2
    tw[i] = t
    gs[i] = s
    te[i] = t
    if ip[I_DRIFT] == 1 and fp[F_DRIFT_ON] != 0.0:
        # aihwkit PCMLikeNoiseModel: nu ~ |N(mu(g_T), sd(g_T))| drawn at programming
        gt = (gmin[i] + (gmax[i] - gmin[i]) * l2) / fp[F_G_MAX_NOM]
        if gt < 1e-7:
            gt = 1e-7
        lg = math.log(gt)
        mu = min(max(-0.0155 * lg + 0.0244, 0.049), 0.1)
        sg = min(max(-0.0125 * lg - 0.0059, 0.008), 0.045)
        nu[i] = abs(mu + sg * normal(knu, i, c))
    g_after = lo + win * _clip01(np.float64(gl[i]) + np.float64(gs[i]))  # stored values: now == t
    return v2 * 0.5 * (g_before + g_after) * fp[F_TPW] * m + v2 * fp[F_CLINE] * m


def _pulse_all_py(nflat, t, gl, gs, tw, te, ev, gmin, gmax, ap, bp, ad, bd, su, sd, nu, tau, stuck, fp, ip, kw, ks, knu):
    """Pulse every device ``i`` with ``nflat[i]``; returns (energy J, pulses)."""
    e = 0.0
    cnt = 0
    for i in prange(nflat.size):
        n = nflat[i]
        if n != 0:
            e += _write_one(i, n, t, gl, gs, tw, te, ev, gmin, gmax, ap, bp, ad, bd, su, sd, nu, tau, stuck,
                            fp, ip, kw, ks, knu)
            cnt += abs(n)
    return e, cnt


def _pulse_rows_py(rows, cols, n2, t, gl, gs, tw, te, ev, gmin, gmax, ap, bp, ad, bd, su, sd, nu, tau, stuck,
               fp, ip, kw, ks, knu):
    """Pulse devices of the given rows; ``n2`` has shape (len(rows), cols)."""
    e = 0.0
    cnt = 0
    for k in prange(rows.size):
        base = rows[k] * cols
        ek = 0.0
        ck = 0
        for j in range(cols):
            n = n2[k, j]
            if n != 0:
                ek += _write_one(base + j, n, t, gl, gs, tw, te, ev, gmin, gmax, ap, bp, ad, bd, su, sd, nu, tau,
                                 stuck, fp, ip, kw, ks, knu)
                ck += abs(n)
        e += ek
        cnt += ck
    return e, cnt


def _pulse_sparse_py(idx, nv, t, gl, gs, tw, te, ev, gmin, gmax, ap, bp, ad, bd, su, sd, nu, tau, stuck,
                 fp, ip, kw, ks, knu):
    """Pulse devices ``idx[k]`` (unique flat indices) with ``nv[k]``."""
    e = 0.0
    cnt = 0
    for k in prange(idx.size):
        n = nv[k]
        if n != 0:
            e += _write_one(idx[k], n, t, gl, gs, tw, te, ev, gmin, gmax, ap, bp, ad, bd, su, sd, nu, tau, stuck,
                            fp, ip, kw, ks, knu)
            cnt += abs(n)
    return e, cnt


# ------------------------------------------------------------------------------------------------
# reads
def _read_one_py(i, t, gl, gs, tw, te, nu, tau, gmin, gmax, stuck, fp, ip, kr, rc, noisy):
    g = g_of(i, t, gl, gs, tw, te, nu, tau, gmin, gmax, stuck, fp)
    if not noisy:
        return g
    if ip[I_READ] == 0:
        sr = fp[F_READ_NOISE]
        sa = fp[F_READ_NOISE_ADD]
        if sa == 0.0:
            if sr == 0.0:
                return g
            g = g * (1.0 + sr * normal(kr, i, rc))
        else:
            z1 = normal(kr, i, rc)
            z2 = normal(kr ^ _SALT2, i, rc)
            g = g * (1.0 + sr * z1) + sa * (np.float64(gmax[i]) - gmin[i]) * z2
    else:
        if fp[F_READ_NOISE] == 0.0:
            return g
        # aihwkit PCM 1/f: sigma = G Q_s sqrt(ln((t + t_read) / (2 t_read))), t since programming + t0
        gprog = (gmin[i] + (np.float64(gmax[i]) - gmin[i]) * gl[i]) / fp[F_G_MAX_NOM]
        if gprog < 1e-3:
            gprog = 1e-3
        qs = min(0.0088 / gprog**0.65, 0.2)
        tt = (t - tw[i]) + fp[F_DRIFT_T0]
        tr = fp[F_T_READ]
        arg = math.log((tt + tr) / (2.0 * tr))
        if arg < 0.0:
            arg = 0.0
        g = g + abs(g) * fp[F_READ_NOISE] * qs * math.sqrt(arg) * normal(kr, i, rc)
    return g if g > 0.0 else 0.0


def _read_all_py(out, t, gl, gs, tw, te, nu, tau, gmin, gmax, stuck, fp, ip, kr, rc, noisy):
    for i in prange(out.size):
        out[i] = _read_one(i, t, gl, gs, tw, te, nu, tau, gmin, gmax, stuck, fp, ip, kr, rc, noisy)


def _read_grid_py(out, rows, csel, cols, t, gl, gs, tw, te, nu, tau, gmin, gmax, stuck, fp, ip, kr, rc, noisy):
    """``out[k, q]`` = conductance of device ``rows[k] * cols + csel[q]`` (a row/column selection;
    flat indices are ``rows=idx, csel=[0], cols=1``)."""
    # column-outer for a narrow selection: one constant-stride stream per state array, which the
    # hardware prefetcher follows (row-outer interleaves ~10 arrays x columns streams)
    if 4 * csel.size < cols:
        for q in prange(csel.size):
            for k in range(rows.size):
                out[k, q] = _read_one(rows[k] * cols + csel[q], t, gl, gs, tw, te, nu, tau, gmin, gmax, stuck, fp,
                                      ip, kr, rc, noisy)
        return
    for k in prange(rows.size):
        base = rows[k] * cols
        for q in range(csel.size):
            out[k, q] = _read_one(base + csel[q], t, gl, gs, tw, te, nu, tau, gmin, gmax, stuck, fp, ip, kr, rc,
                                  noisy)


def _long_term_grid_py(out, rows, csel, cols, t, gl, tw, nu, stuck, gmin, gmax, fp, siemens):
    """Long-term state (drift applied, volatile part excluded) of the selection as in
    :func:`read_grid`: normalised to [0, 1], or in siemens (``gmin + (gmax - gmin) * state``)."""
    if 4 * csel.size < cols:  # column-outer: see read_grid
        for q in prange(csel.size):
            for k in range(rows.size):
                i = rows[k] * cols + csel[q]
                x = gl[i] if stuck[i] != 0 else lt_eff(gl[i], tw[i], nu[i], t, fp)
                out[k, q] = gmin[i] + (np.float64(gmax[i]) - gmin[i]) * x if siemens else x
        return
    for k in prange(rows.size):
        base = rows[k] * cols
        for q in range(csel.size):
            i = base + csel[q]
            x = gl[i] if stuck[i] != 0 else lt_eff(gl[i], tw[i], nu[i], t, fp)
            out[k, q] = gmin[i] + (np.float64(gmax[i]) - gmin[i]) * x if siemens else x


def _inverse_rows_py(out, rows, cols, target, t, gl, tw, nu, gmin, gmax, ap, bp, ad, bd, su, sd, stuck, fp, ip, n_cap):
    """Predicted signed pulse counts bringing each device's long-term state to ``target`` (S)."""
    law = ip[I_LAW]
    for k in prange(rows.size):
        base = rows[k] * cols
        for j in range(cols):
            i = base + j
            if stuck[i] != 0:
                out[k, j] = 0
                continue
            l = lt_eff(gl[i], tw[i], nu[i], t, fp)
            tg = (target[k, j] - gmin[i]) / (np.float64(gmax[i]) - gmin[i])
            out[k, j] = law_inverse(law, l, tg, ap[i], bp[i], ad[i], bd[i], su[i], sd[i], fp, n_cap)


@njit(cache=True)
def materialize_st(t, gs, te, tau, fp):
    """Fold the volatile decay up to ``t`` into the stored state (before the bias changes tau)."""
    for i in range(gs.size):
        if gs[i] != 0.0:
            gs[i] = st_eff(gs[i], te[i], tau[i], t, fp)
        te[i] = t


# ------------------------------------------------------------------------------------------------
# construction: device-to-device constants and faults
def _populate_py(n, g_min, g_max, s_win, s_step, s_nl, s_tau, nl_p, nl_d, p_up, p_dn, st_tau, nu_mean, nu_std,
             pmin, pmaxp, prand, kd, kf, gmin, gmax, ap, bp, ad, bd, su, sd, nu, tau, stuck, gl):
    """Draw the per-device constants (aihwkit-style hidden parameters) and the initial state."""
    a_p0 = nl_to_a_nb(nl_p)
    a_d0 = nl_to_a_nb(nl_d)
    for i in prange(n):
        # the seven draws of a device in one loop: ``normal`` is inlined, and seven call sites
        # would make Numba type and compile seven copies of the ziggurat
        z0 = z1 = z2 = z3 = z4 = z5 = z6 = 0.0
        for k in range(7):
            z = normal(kd, i, k)
            if k == 0:
                z0 = z
            elif k == 1:
                z1 = z
            elif k == 2:
                z2 = z
            elif k == 3:
                z3 = z
            elif k == 4:
                z4 = z
            elif k == 5:
                z5 = z
            else:
                z6 = z
        lo = g_min * math.exp(s_win * z0) if s_win > 0.0 else g_min
        hi = g_max * math.exp(s_win * z1) if s_win > 0.0 else g_max
        if hi <= lo * (1.0 + 1e-6) + 1e-30:
            hi = lo * (1.0 + 1e-6) + 1e-30  # keep a positive window under extreme spreads
        gmin[i] = lo
        gmax[i] = hi
        gain = math.exp(s_step * z2) if s_step > 0.0 else 1.0
        if s_nl > 0.0:
            a_p = nl_to_a_nb(max(nl_p + s_nl * z3, 0.0))
            a_d = nl_to_a_nb(max(nl_d + s_nl * z4, 0.0))
        else:
            a_p = a_p0
            a_d = a_d0
        su[i] = gain / p_up
        sd[i] = gain / p_dn
        if math.isinf(a_p):
            ap[i] = 0.0
            bp[i] = 1.0
        else:
            ap[i] = a_p * p_up / gain
            bp[i] = 1.0 / (-math.expm1(-1.0 / a_p))
        if math.isinf(a_d):
            ad[i] = 0.0
            bd[i] = 1.0
        else:
            ad[i] = a_d * p_dn / gain
            bd[i] = 1.0 / (-math.expm1(-1.0 / a_d))
        tau[i] = st_tau * math.exp(s_tau * z5) if s_tau > 0.0 else st_tau
        nu[i] = abs(nu_mean + nu_std * z6)
        u = uniform(kf, i, 0)
        if u < pmin:
            stuck[i] = 1
            gl[i] = 0.0
        elif u < pmin + pmaxp:
            stuck[i] = 2
            gl[i] = 1.0
        elif u < pmin + pmaxp + prand:
            stuck[i] = 3
            gl[i] = uniform(kf, i, 1)
        else:
            stuck[i] = 0
            gl[i] = 0.0


SERIAL_BELOW = 16384
"""Calls touching fewer devices than this run the serial twin of a kernel."""


# ================================================================================================
# Block kernels (fast path: ``neurosim`` law, ``power`` drift, ``normal`` read noise).
#
# Each block of ``BLK`` devices runs in two passes whose loops LLVM vectorises: (A) the normal
# draws (ziggurat fast path on the counter-based bits; the ~1 % rejected draws are redone by the
# scalar ``hwsnn.rng.normal`` in a fix-up loop, so every value equals its), then (B) the branch-free
# physics (selects instead of branches, ``fexp``/``flog`` instead of libm calls).  The per-device
# arithmetic is one inline function shared by the dense, row and sparse kernels, so the same
# events give bit-identical devices whichever kernel (and however many threads) ran them.
BLK = 1024
LBLK = 128  # event-list chunk


@njit(cache=True, inline="always", fastmath=FM)
def _wphys(n, c, t, gl0, gs0, tw0, te0, nu0, tau0, lo, hi, ap, bp, ad, bd, su, sd, stk, z1, z2, cst, lev, logq):
    """One write event, branch-free: (gl, gs, tw, te, ev) to store and the event's energy (J)."""
    m = np.float64(abs(n))
    win = hi - lo
    t0, rest, drift_on, tsc, cm, ca, smax, stn, rate, theta, st_amp_on, v2, tpw, cline = cst
    # lazy evolution since the last events (same expressions as lt_eff / st_eff)
    fac = fexp(-nu0 * flog(1.0 + (t - tw0) / t0))
    l = rest + (gl0 - rest) * fac if (drift_on and nu0 > 0.0 and t > tw0) else gl0
    dec = fexp(-(t - te0) / (tau0 * tsc))
    s = gs0 * dec if (gs0 != 0.0 and t > te0) else gs0
    g_before = lo + win * _clip01(l + s)
    # closed-form NeuroSim law for m pulses (SET: own A, B; RESET: mirror image)
    up = n > 0
    a = ap if up else ad
    bb = bp if up else bd
    step = su if up else sd
    u0 = l if up else 1.0 - l
    ee = fexp(-m / (a if a > 0.0 else 1.0))
    u1 = bb - (bb - u0) * ee if a > 0.0 else u0 + m * step
    x = u1 if up else 1.0 - u1
    d = _clip01(x) - l
    d = d + _vsqrt((cm * d) * (cm * d) + ca * ca * m) * z1
    l2 = _clip01(l + d)
    # volatile part (SET only): m soft-bounded increments, noise, consolidation above theta
    inc = (smax - s) * (1.0 - fexp(m * logq))
    inc = inc * (1.0 + stn * z2)
    s2 = s + inc
    s2 = s2 if s2 > 0.0 else 0.0
    s2 = s2 if s2 < smax else smax
    mv = rate * (s2 - theta) if (rate > 0.0 and s2 > theta) else 0.0
    st_on = up and st_amp_on
    l2 = _clip01(l2 + mv) if st_on else l2
    s_new = s2 - mv if st_on else s
    if lev >= 2:
        l2 = math.floor(l2 * (lev - 1) + 0.5) / (lev - 1)
    gln = np.float32(l2)
    gsn = np.float32(s_new)
    g_after = lo + win * _clip01(np.float64(gln) + np.float64(gsn))
    e_line = v2 * cline * m
    e = v2 * 0.5 * (g_before + g_after) * tpw * m + e_line
    e_stuck = v2 * (lo + win * gl0) * tpw * m + e_line
    act = n != 0 and stk == 0
    e = e if stk == 0 else e_stuck
    return (gln if act else np.float32(gl0), gsn if act else np.float32(gs0), t if act else tw0,
            t if act else te0, c + 1 if act else c, e if n != 0 else 0.0)


def _wblock_dense_py(idx, i0, nsrc, k0, nb, t, gl, gs, tw, te, ev, gmin, gmax, ap, bp, ad, bd, su, sd, nu, tau, stuck,
                  fp, ip, kw, ks, z1b, z2b, zo):
    """Write ``nb`` events: device ``i0 + j`` gets ``nsrc[k0 + j]`` (``idx`` unused); ``z1b[zo:zo + nb]``,
    ``z2b[...]`` are scratch for the normals.

    The dense and the indexed (:func:`_wblock_idx`) forms are two functions rather than one with a
    run-time switch: every call site inlines only the form it uses, which halves the code Numba
    types and compiles (the arithmetic per device is the same :func:`_wphys`)."""
    # (every loop has its own variable names: a name shared between loops becomes a value carried
    # out of the loop, which stops LLVM from vectorising it)
    cm = fp[F_C2C_MULT]
    ca = fp[F_C2C_ADD]
    need_st = fp[F_ST_AMP] > 0.0 and fp[F_ST_NOISE] != 0.0
    q = 1.0 - fp[F_ST_AMP] / fp[F_ST_MAX] if fp[F_ST_MAX] > 0.0 else 1.0
    logq = math.log(q) if q > 0.0 else -np.inf
    lev = ip[I_LEVELS]
    draw1 = cm != 0.0 or ca != 0.0 or need_st
    cst = (fp[F_DRIFT_T0], fp[F_DRIFT_G_REST], fp[F_DRIFT_ON] != 0.0, fp[F_TAU_SCALE], cm, ca, fp[F_ST_MAX],
           fp[F_ST_NOISE], fp[F_CONSOL_RATE], fp[F_CONSOL_THETA], fp[F_ST_AMP] > 0.0, fp[F_VW] * fp[F_VW], fp[F_TPW],
           fp[F_CLINE])
    # pass A: normals (vectorised ziggurat fast path, scalar fix-up of the rejected ones)
    if draw1:
        for ja in range(nb):
            z1b[zo + ja] = normal_first(kw, i0 + ja, ev[i0 + ja])
        for jc in range(nb):
            if z1b[zo + jc] != z1b[zo + jc]:
                ic = i0 + jc
                z1b[zo + jc] = _znormal_fm(kw, ic, ev[ic])
    else:
        z1b[zo:zo + nb] = 0.0
    if need_st:
        for jd in range(nb):
            z2b[zo + jd] = normal_first(ks, i0 + jd, ev[i0 + jd]) if nsrc[k0 + jd] > 0 else 0.0
        for jf in range(nb):
            if z2b[zo + jf] != z2b[zo + jf]:
                i_f = i0 + jf
                z2b[zo + jf] = _znormal_fm(ks, i_f, ev[i_f])
    else:
        z2b[zo:zo + nb] = 0.0
    # pass B: physics (scalars only in the loop: an array handed to an inlined function costs
    # a reference-count call per iteration, which blocks vectorisation)
    e = 0.0
    cnt = 0
    for jg in range(nb):
        # unsigned indices: Numba adds no negative-index wraparound, so LLVM sees affine accesses
        ig = np.uint64(i0 + jg)
        ng = nsrc[np.uint64(k0 + jg)]
        rg = _wphys(ng, ev[ig], t, np.float64(gl[ig]), np.float64(gs[ig]), tw[ig], te[ig],
                    np.float64(nu[ig]), np.float64(tau[ig]), np.float64(gmin[ig]), np.float64(gmax[ig]),
                    np.float64(ap[ig]), np.float64(bp[ig]), np.float64(ad[ig]), np.float64(bd[ig]),
                    np.float64(su[ig]), np.float64(sd[ig]), stuck[ig], z1b[np.uint64(zo + jg)], z2b[np.uint64(zo + jg)], cst, lev, logq)
        gl[ig] = rg[0]
        gs[ig] = rg[1]
        tw[ig] = rg[2]
        te[ig] = rg[3]
        ev[ig] = rg[4]
        e += rg[5]
        cnt += abs(ng)
    return e, cnt


def _wblock_idx_py(idx, i0, nsrc, k0, nb, t, gl, gs, tw, te, ev, gmin, gmax, ap, bp, ad, bd, su, sd, nu, tau, stuck,
                fp, ip, kw, ks, z1b, z2b, zo):
    """Write ``nb`` events: device ``idx[k0 + j]`` gets ``nsrc[k0 + j]`` (``i0`` unused); scratch as
    :func:`_wblock_dense`."""
    # (every loop has its own variable names: a name shared between loops becomes a value carried
    # out of the loop, which stops LLVM from vectorising it)
    cm = fp[F_C2C_MULT]
    ca = fp[F_C2C_ADD]
    need_st = fp[F_ST_AMP] > 0.0 and fp[F_ST_NOISE] != 0.0
    q = 1.0 - fp[F_ST_AMP] / fp[F_ST_MAX] if fp[F_ST_MAX] > 0.0 else 1.0
    logq = math.log(q) if q > 0.0 else -np.inf
    lev = ip[I_LEVELS]
    draw1 = cm != 0.0 or ca != 0.0 or need_st
    cst = (fp[F_DRIFT_T0], fp[F_DRIFT_G_REST], fp[F_DRIFT_ON] != 0.0, fp[F_TAU_SCALE], cm, ca, fp[F_ST_MAX],
           fp[F_ST_NOISE], fp[F_CONSOL_RATE], fp[F_CONSOL_THETA], fp[F_ST_AMP] > 0.0, fp[F_VW] * fp[F_VW], fp[F_TPW],
           fp[F_CLINE])
    # pass A: normals (vectorised ziggurat fast path, scalar fix-up of the rejected ones)
    if draw1:
        for jb in range(nb):
            z1b[zo + jb] = normal_first(kw, idx[k0 + jb], ev[idx[k0 + jb]])
        for jc in range(nb):
            if z1b[zo + jc] != z1b[zo + jc]:
                ic = idx[k0 + jc]
                z1b[zo + jc] = _znormal_fm(kw, ic, ev[ic])
    else:
        z1b[zo:zo + nb] = 0.0
    if need_st:
        for je in range(nb):
            z2b[zo + je] = normal_first(ks, idx[k0 + je], ev[idx[k0 + je]]) if nsrc[k0 + je] > 0 else 0.0
        for jf in range(nb):
            if z2b[zo + jf] != z2b[zo + jf]:
                i_f = idx[k0 + jf]
                z2b[zo + jf] = _znormal_fm(ks, i_f, ev[i_f])
    else:
        z2b[zo:zo + nb] = 0.0
    # pass B: physics (scalars only in the loop: an array handed to an inlined function costs
    # a reference-count call per iteration, which blocks vectorisation)
    e = 0.0
    cnt = 0
    for jh in range(nb):
        ih = idx[k0 + jh]
        nh = nsrc[k0 + jh]
        rh = _wphys(nh, ev[ih], t, np.float64(gl[ih]), np.float64(gs[ih]), tw[ih], te[ih],
                    np.float64(nu[ih]), np.float64(tau[ih]), np.float64(gmin[ih]), np.float64(gmax[ih]),
                    np.float64(ap[ih]), np.float64(bp[ih]), np.float64(ad[ih]), np.float64(bd[ih]),
                    np.float64(su[ih]), np.float64(sd[ih]), stuck[ih], z1b[zo + jh], z2b[zo + jh], cst, lev, logq)
        gl[ih] = rh[0]
        gs[ih] = rh[1]
        tw[ih] = rh[2]
        te[ih] = rh[3]
        ev[ih] = rh[4]
        e += rh[5]
        cnt += abs(nh)
    return e, cnt


_NOIDX = np.zeros(0, np.int64)


def _dense_chunk_py(nflat, k0, i0, nb, t, gl, gs, tw, te, ev, gmin, gmax, ap, bp, ad, bd, su, sd, nu, tau, stuck,
                 fp, ip, kw, ks, z1b, z2b):
    """Devices ``i0 + j`` get ``nflat[k0 + j]``, j < nb: vectorised over the chunk, or over its
    non-zero entries only when fewer than a quarter are non-zero."""
    # typed zeros, not literals: Numba would otherwise compile extra specialisations of
    # ``_wblock_idx`` for ``Literal[int](0)`` arguments (one during type inference of ``nz``, one
    # for the start offset), each as costly as the function itself; with int64 this call shares
    # the specialisation of :func:`_pulse_list`'s
    nz = np.int64(0)
    for j in range(nb):
        nz += nflat[k0 + j] != 0
    if nz == 0:
        return 0.0, 0
    if 4 * nz >= nb:
        return _wblock_dense(_NOIDX, i0, nflat, k0, nb, t, gl, gs, tw, te, ev, gmin, gmax, ap, bp, ad, bd, su,
                       sd, nu, tau, stuck, fp, ip, kw, ks, z1b, z2b, k0)
    li = np.empty(nz, np.int64)
    ln = np.empty(nz, np.int64)
    k = 0
    for j in range(nb):
        v = nflat[k0 + j]
        if v != 0:
            li[k] = i0 + j
            ln[k] = v
            k += 1
    return _wblock_idx(li, 0, ln, np.int64(0), nz, t, gl, gs, tw, te, ev, gmin, gmax, ap, bp, ad, bd, su, sd, nu, tau, stuck,
                   fp, ip, kw, ks, z1b, z2b, k0)


def _pulse_seg_py(nflat, offs, t, gl, gs, tw, te, ev, gmin, gmax, ap, bp, ad, bd, su, sd, nu, tau, stuck,
                  fp, ip, kw, ks, knu, z1b, z2b):
    """Pulse device ``offs[s] + j`` with ``nflat[s * seg + j]``, ``seg = nflat.size // offs.size``
    (``offs = [0]``: the whole array; one entry per row for row writes).  Returns (energy J, pulses)."""
    if offs.size == 0 or nflat.size == 0:
        return 0.0, 0
    seg = nflat.size // offs.size
    per = (seg + BLK - 1) // BLK
    nch = offs.size * per
    es = np.zeros(nch)
    cs = np.zeros(nch, np.int64)
    for c in prange(nch):
        s = c // per
        j0 = (c - s * per) * BLK
        e, k = _dense_chunk(nflat, s * seg + j0, offs[s] + j0, min(BLK, seg - j0), t, gl, gs, tw, te, ev, gmin,
                            gmax, ap, bp, ad, bd, su, sd, nu, tau, stuck, fp, ip, kw, ks, z1b, z2b)
        es[c] = e
        cs[c] = k
    return es.sum(), cs.sum()


def _pulse_list_py(idx, nv, t, gl, gs, tw, te, ev, gmin, gmax, ap, bp, ad, bd, su, sd, nu, tau, stuck,
                   fp, ip, kw, ks, knu, z1b, z2b):
    """Pulse devices ``idx[k]`` (unique flat indices) with ``nv[k]``.  Returns (energy J, pulses)."""
    # scattered events are latency-bound (cache misses), not bandwidth-bound: small chunks keep
    # both threads busy to the end instead of one thread finishing the last 1024-event block alone
    nch = (idx.size + LBLK - 1) // LBLK
    es = np.zeros(nch)
    cs = np.zeros(nch, np.int64)
    for c in prange(nch):
        k0 = c * LBLK
        nb = min(LBLK, idx.size - k0)
        e, k = _wblock_idx(idx, 0, nv, k0, nb, t, gl, gs, tw, te, ev, gmin, gmax, ap, bp, ad, bd, su, sd, nu, tau,
                       stuck, fp, ip, kw, ks, z1b, z2b, k0)
        es[c] = e
        cs[c] = k
    return es.sum(), cs.sum()


def _rblock_py(out, o0, i0, nb, t, gl, gs, tw, te, nu, tau, gmin, gmax, stuck, fp, ip, kr, rc, noisy, z1b, z2b):
    """Conductance of devices ``i0 + j`` into ``out[o0 + j]``, j < nb (read noise when ``noisy``)."""
    sr = fp[F_READ_NOISE]
    sa = fp[F_READ_NOISE_ADD]
    noisy = noisy and (sr != 0.0 or sa != 0.0)
    if noisy:
        for ja in range(nb):
            z1b[o0 + ja] = normal_first(kr, i0 + ja, rc)
        for jb in range(nb):
            if z1b[o0 + jb] != z1b[o0 + jb]:
                z1b[o0 + jb] = _znormal_fm(kr, i0 + jb, rc)
        if sa != 0.0:
            for jc in range(nb):
                z2b[o0 + jc] = normal_first(kr ^ _SALT2, i0 + jc, rc)
            for jd in range(nb):
                if z2b[o0 + jd] != z2b[o0 + jd]:
                    z2b[o0 + jd] = _znormal_fm(kr ^ _SALT2, i0 + jd, rc)
        else:
            z2b[o0:o0 + nb] = 0.0
    t0 = fp[F_DRIFT_T0]
    rest = fp[F_DRIFT_G_REST]
    drift_on = fp[F_DRIFT_ON] != 0.0
    tsc = fp[F_TAU_SCALE]
    for jg in range(nb):
        ig = np.uint64(i0 + jg)  # unsigned: no wraparound select, affine accesses for LLVM
        og = np.uint64(o0 + jg)
        lo = np.float64(gmin[ig])
        w = np.float64(gmax[ig]) - lo
        gl0 = np.float64(gl[ig])
        gs0 = np.float64(gs[ig])
        nu0 = np.float64(nu[ig])
        tw0 = tw[ig]
        te0 = te[ig]
        fac = fexp(-nu0 * flog(1.0 + (t - tw0) / t0))
        l = rest + (gl0 - rest) * fac if (drift_on and nu0 > 0.0 and t > tw0) else gl0
        dec = fexp(-(t - te0) / (np.float64(tau[ig]) * tsc))
        s = gs0 * dec if (gs0 != 0.0 and t > te0) else gs0
        g = lo + w * (_clip01(l + s) if stuck[ig] == 0 else gl0)
        if noisy:
            g = g * (1.0 + sr * z1b[og]) + sa * w * z2b[og]
            g = g if g > 0.0 else 0.0
        out[og] = g


def _read_seg_py(out, offs, t, gl, gs, tw, te, nu, tau, gmin, gmax, stuck, fp, ip, kr, rc, noisy, z1b, z2b):
    """``out[s * seg + j]`` = conductance of device ``offs[s] + j``, ``seg = out.size // offs.size``."""
    if offs.size == 0 or out.size == 0:
        return
    seg = out.size // offs.size
    per = (seg + BLK - 1) // BLK
    for c in prange(offs.size * per):
        s = c // per
        j0 = (c - s * per) * BLK
        nb = min(BLK, seg - j0)
        _rblock(out, s * seg + j0, offs[s] + j0, nb, t, gl, gs, tw, te, nu, tau, gmin, gmax, stuck, fp, ip, kr, rc,
                noisy, z1b, z2b)


# -- noalias compilation ---------------------------------------------------------------------
# Every dispatcher below also sets ``error_model="numpy"``: under Numba's default ("python") model
# each float division is preceded by a zero-division check that raises, a branch that stops LLVM
# vectorising the loop (pass B of the read kernel ran ~6x slower, scalar).  The divisors are
# validated positive parameters (``drift_t0``, ``tau``), so no check is lost; results are
# bit-identical.
_OPTS = {"nopython": True, "boundscheck": None, "error_model": "numpy"}

# LLVM only vectorises pass B if it knows the ~20 state arrays do not overlap (runtime overlap
# checks are capped at 8 comparisons).  Numba has a ``noalias`` compiler flag (its parfor gufuncs
# use it) but no decorator option for it: this dispatcher sets it.  The block kernels are only
# called with distinct arrays, so the promise holds.
from numba.core import cpu as _nb_cpu  # noqa: E402
from numba.core import registry as _nb_registry  # noqa: E402


class _NoAliasOptions(_nb_cpu.CPUTargetOptions):
    def finalize(self, flags, options):
        super().finalize(flags, options)
        flags.noalias = True


class _NoAliasTarget(_nb_registry.CPUTarget):
    options = _NoAliasOptions

    @property
    def target_context(self):
        return _nb_registry.cpu_target.target_context

    @property
    def typing_context(self):
        return _nb_registry.cpu_target.typing_context


class _Dispatcher(_nb_registry.CPUDispatcher):
    """The device kernels' dispatcher: a read-only array argument is typed as a writable one.

    Pulse counts often arrive as read-only views (``np.broadcast_to`` of a value that already has
    the array's shape, or of one value for a 1 x 1 array); typed as they are, they would make Numba
    compile a second copy of the kernel (minutes for the block kernels).  The kernels only read
    their input arrays (pulse counts, indices, targets); the arrays they write are the
    :class:`~hwsnn.devices.array.DeviceArray`'s own state and scratch arrays, never read-only.
    """

    def typeof_pyval(self, val):
        tp = super().typeof_pyval(val)
        if isinstance(tp, types.Array) and not tp.mutable:
            tp = tp.copy(readonly=False)
        return tp


class _NoAliasDispatcher(_Dispatcher):
    targetdescr = _NoAliasTarget("cpu")


def _njit_noalias(f, name, parallel):
    g = _twin(f, name)
    d = _NoAliasDispatcher(py_func=g, locals={},
                           targetoptions={**_OPTS, "parallel": parallel, "fastmath": FM})
    d.enable_caching()
    return d


def _twin(f, name):
    """A copy of ``f`` under another name (own dispatcher and own on-disk cache entry)."""
    import types as _pytypes

    g = _pytypes.FunctionType(f.__code__, f.__globals__, name, f.__defaults__, f.__closure__)
    g.__qualname__ = name
    g.__doc__ = f.__doc__
    return g


# The block functions are called, not inlined, by the kernels (once per block of up to BLK devices,
# so the call costs nothing measurable): each is compiled once and shared by the serial and the
# parallel kernels.  Numba's IR inlining ("inline='always'") copied them, with everything inlined
# into them, into every kernel -- most of the first run's compile time.  Compiled with the kernels'
# options (fast-math, noalias), so their arithmetic and vectorisation are the same.
# the per-device functions of the general kernels likewise (called per device; the ziggurat draws
# inside them are not vectorised either way), with the fast-math flags of their callers
_write_one = _Dispatcher(py_func=_twin(_write_one_py, "_write_one"), locals={},
                         targetoptions={**_OPTS, "fastmath": FM})
_write_one.enable_caching()
_read_one = _Dispatcher(py_func=_twin(_read_one_py, "_read_one"), locals={},
                        targetoptions={**_OPTS, "fastmath": FM})
_read_one.enable_caching()
_wblock_dense = _njit_noalias(_wblock_dense_py, "_wblock_dense", False)
_wblock_idx = _njit_noalias(_wblock_idx_py, "_wblock_idx", False)
_dense_chunk = _njit_noalias(_dense_chunk_py, "_dense_chunk", False)
_rblock = _njit_noalias(_rblock_py, "_rblock", False)

# the block kernels' scalar fix-up of rejected ziggurat draws (~1 % of them) calls this out-of-line
# copy of ``hwsnn.rng.normal``, compiled with the block kernels' fast-math flags (the flags an inlined copy
# gets): the same values as inlining it at every fix-up site, at a fraction of the compile time
_znormal_fm = njit(cache=True, fastmath=FM)(_twin(normal.py_func, "_znormal_fm"))

# parallel kernels and their serial twins (prange runs as range without parallel=True)
pulse_seg_fast = _njit_noalias(_pulse_seg_py, "pulse_seg_fast", True)
pulse_list_fast = _njit_noalias(_pulse_list_py, "pulse_list_fast", True)
read_seg_fast = _njit_noalias(_read_seg_py, "read_seg_fast", True)
pulse_seg_fast_serial = _njit_noalias(_pulse_seg_py, "pulse_seg_fast_serial", False)
pulse_list_fast_serial = _njit_noalias(_pulse_list_py, "pulse_list_fast_serial", False)
read_seg_fast_serial = _njit_noalias(_read_seg_py, "read_seg_fast_serial", False)


# ------------------------------------------------------------------------------------------------
# every kernel above is compiled twice: parallel, and a serial twin for small calls (the
# thread-pool launch dominates below a few thousand devices; prange runs as range without
# parallel=True).  One Python body, so the twins cannot drift apart.
def _njit_pair(f, name, fastmath):
    def make(nm, **opts):
        # what ``njit(cache=True, **opts)`` builds, with the read-only-as-writable dispatcher
        d = _Dispatcher(py_func=_twin(f, nm), locals={},
                        targetoptions={**_OPTS, **opts})
        d.enable_caching()
        return d

    kw = {"fastmath": FM} if fastmath else {}
    return make(name, parallel=True, **kw), make(name + "_serial", **kw)


pulse_all, pulse_all_serial = _njit_pair(_pulse_all_py, "pulse_all", True)
pulse_rows, pulse_rows_serial = _njit_pair(_pulse_rows_py, "pulse_rows", True)
pulse_sparse, pulse_sparse_serial = _njit_pair(_pulse_sparse_py, "pulse_sparse", True)
read_all, read_all_serial = _njit_pair(_read_all_py, "read_all", True)
read_grid, read_grid_serial = _njit_pair(_read_grid_py, "read_grid", True)
long_term_grid, long_term_grid_serial = _njit_pair(_long_term_grid_py, "long_term_grid", True)
inverse_rows, inverse_rows_serial = _njit_pair(_inverse_rows_py, "inverse_rows", False)
populate, populate_serial = _njit_pair(_populate_py, "populate", False)


@njit(cache=True)
def check_flat_idx(idx, n):
    """-1 if an index is outside [0, n); 0 if the indices strictly increase; 1 otherwise."""
    code = 0
    prev = -1
    for k in range(idx.size):
        v = idx[k]
        if v < 0 or v >= n:
            return -1
        if v <= prev:
            code = 1
        prev = v
    return code
