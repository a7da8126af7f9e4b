"""Numba kernels of the winner-take-all network (one fused kernel per presentation).

State is float64 (membranes, conductances, thresholds).  Per time step the order is fixed:

1. decay: conductances decay exactly, ``g <- g * exp(-dt / tau_g)``;
2. integrate: this step's input spikes add ``efficacy * w[i, :]`` to the excitatory
   conductances (one row per input spike - event driven); last step's excitatory/inhibitory
   spikes are delivered (lateral inhibition); then every non-refractory membrane is advanced by
   the exact solution of ``tau dv/dt = (v_rest - v) + ge (E_exc - v) + gi (E_inh - v)`` with the
   conductances held over the step (exponential Euler: ``v <- v_inf + (v - v_inf) exp(-dt b / tau)``,
   ``b = 1 + ge + gi``) - no overshoot even for very large conductances;
3. threshold: ``v > v_thresh + theta - theta_offset``;
4. reset / refractory (and ``theta += theta_plus`` while learning);
5. plasticity with the traces *before* this step's increments (D&C triplet rule):
   pre spike i: ``w[i, j] -= nu_pre * post1_j`` for the excitatory neurons that have fired;
   post spike j: ``w[i, j] += nu_post * pre_i * post2_j`` for the inputs that have fired;
6. trace increments ("set to 1" / nearest-spike traces, as in the D&C code).

Because the traces are nearest-spike traces that are reset at the start of each presentation,
a trace is a pure function of the time since its last spike; it is read from a table
(``table[k]`` = value ``k`` steps after a spike) so traces cost nothing per step and plasticity
costs work proportional to spikes.  The integer twin ("int8" mode) uses integer tables built by
iterating the hardware decay ``x <- (x * D) >> 12`` from ``2**bits - 1`` and integer weight
updates ``dw = (prod * M + r) >> E`` with stochastic rounding (``r`` uniform in ``[0, 2**E)``).

Modes: 0 = float weights updated in place, 1 = integer weights updated in place,
2 = float weights read-only during the presentation, desired changes accumulated in ``dw_acc``
(crossbar: written back as programming pulses at the end of the presentation).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from hwsnn.rng import bits64, uniform
from hwsnn.rng import key as key_py  # noqa: F401  (re-exported for wta.py)

# float parameter slots
F_DT = 0
F_DM_E = 1  # exp(-dt/tau_m) excitatory
F_TAU_E = 2
F_VREST_E = 3
F_VRESET_E = 4
F_VTH_E = 5  # v_thresh - theta_offset
F_EEXC = 6
F_EINH = 7
F_DGE = 8
F_DGI = 9
F_EFF = 10
F_THETA_PLUS = 11
F_NU_PRE = 12
F_NU_POST = 13
F_WMAX = 14
F_W_INH_DIRECT = 15
F_TAU_I = 16
F_VREST_I = 17
F_VRESET_I = 18
F_VTH_I = 19
F_EEXC_I = 20
F_DGE_I = 21
F_W_EI = 22
F_W_IE = 23
F_DM_I = 24
F_WSCALE = 25  # int mode: weight of one LSB (w_max / q_max)
F_QUIET = 26  # conductance level below which the rest phase may be fast-forwarded
F_ADC_LSB = 27  # >0: quantise each step's column input (in weight units) to this step
F_ADC_MAX = 28  # clip of the quantised column input (weight units)
F_READ_NOISE = 29  # relative read noise per device conductance
F_G0 = 30  # conductance floor g_min in weight units (both devices of a differential pair carry it)
F_READ_ADD = 31  # additive read-noise variance per active row (weight units^2)
N_FPARAMS = 32

# int parameter slots
I_REF_E = 0
I_REF_I = 1
I_POP = 2  # 1: explicit inhibitory population, 0: direct lateral inhibition
I_QMAX = 3
I_PM = 4
I_PE = 5
I_QM = 6
I_QE = 7
I_FASTFWD = 8
N_IPARAMS = 9


# exp(-x) without a libm call, so that the membrane loops vectorise: x = k ln2 - r with
# k = round(x / ln2) and |r| <= ln2 / 2, exp(-x) = 2**-k * exp(-r); exp(-r) by its Taylor series to
# degree 13 (truncation < 1e-17 relative), 2**-k from a table (0 beyond the double range).
# Relative error a few ulp, like libm's; k ln2 in two parts (the high part has trailing zero bits,
# so k * _LN2_HI is exact for the k used here).
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.4426950408889634
_K_MAX = 1100
_POW2_NEG = np.array([math.ldexp(1.0, -k) for k in range(_K_MAX + 1)])
_C = [1.0 / math.factorial(k) for k in range(14)]
_C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12, _C13 = _C[2:]


@njit(cache=True, inline="always")
def _expneg(x):
    """exp(-x) for 0 <= x (finite), branch-free (vectorisable); relative error ~1e-16."""
    kf = np.floor(x * _INV_LN2 + 0.5)
    kf = kf if kf < _K_MAX else np.float64(_K_MAX)
    r = (kf * _LN2_HI - x) + kf * _LN2_LO
    p = _C12 + r * _C13
    p = _C11 + r * p
    p = _C10 + r * p
    p = _C9 + r * p
    p = _C8 + r * p
    p = _C7 + r * p
    p = _C6 + r * p
    p = _C5 + r * p
    p = _C4 + r * p
    p = _C3 + r * p
    p = _C2 + r * p
    p = 1.0 + r * p
    p = 1.0 + r * p
    return p * _POW2_NEG[np.uint64(kf)]


@njit(cache=True)
def poisson_events(rates_hz, dt_ms, n_steps, key, counter_base):
    """Bernoulli-per-step Poisson spike trains as CSR over steps (event driven).

    Input ``i`` spikes in each step independently with probability ``p_i = rate_i * dt``;
    the gaps between spikes are drawn as geometric variables, so the cost is proportional to
    the number of spikes.  Returns ``(ptr, idx)``: the spikes of step ``t`` are
    ``idx[ptr[t]:ptr[t+1]]`` (ascending input index).
    """
    n_in = rates_hz.shape[0]
    cap = 64
    st = np.empty(cap, np.int64)
    ix = np.empty(cap, np.int64)
    n = 0
    for i in range(n_in):
        p = rates_hz[i] * dt_ms * 1e-3
        if p <= 0.0:
            continue
        c = 0
        t = -1
        if p >= 1.0:
            lq = 0.0
        else:
            lq = math.log1p(-p)
        while True:
            if p >= 1.0:
                t += 1
            else:
                u = uniform(key, i, counter_base + c)
                c += 1
                gap = math.floor(math.log(u) / lq)
                if gap > n_steps:
                    break
                t += 1 + int(gap)
            if t >= n_steps:
                break
            if n == cap:
                cap *= 2
                st2 = np.empty(cap, np.int64)
                ix2 = np.empty(cap, np.int64)
                st2[:n] = st[:n]
                ix2[:n] = ix[:n]
                st = st2
                ix = ix2
            st[n] = t
            ix[n] = i
            n += 1
    ptr = np.zeros(n_steps + 1, np.int64)
    for e in range(n):
        ptr[st[e] + 1] += 1
    for t in range(n_steps):
        ptr[t + 1] += ptr[t]
    fill = ptr[:-1].copy()
    idx = np.empty(n, np.int64)
    for e in range(n):  # inputs were generated in ascending order -> stable
        idx[fill[st[e]]] = ix[e]
        fill[st[e]] += 1
    return ptr, idx


@njit(cache=True)
def normalize_float(w, target):
    """Scale each column of ``w`` to sum ``target`` (columns summing to 0 are left alone)."""
    n_in, n_out = w.shape
    s = np.zeros(n_out)
    for i in range(n_in):
        for j in range(n_out):
            s[j] += w[i, j]
    for j in range(n_out):
        s[j] = target / s[j] if s[j] > 0.0 else 1.0
    for i in range(n_in):
        for j in range(n_out):
            w[i, j] *= s[j]


@njit(cache=True)
def normalize_int(wq, target_q, qmax, key, ctr):
    """Integer twin of the normalisation: ``w <- sr(w * target / sum)`` with stochastic rounding."""
    n_in, n_out = wq.shape
    s = np.zeros(n_out, np.int64)
    for i in range(n_in):
        for j in range(n_out):
            s[j] += wq[i, j]
    f = np.empty(n_out)
    for j in range(n_out):
        f[j] = target_q / s[j] if s[j] > 0 else 1.0
    c = ctr[0]
    for i in range(n_in):
        for j in range(n_out):
            x = wq[i, j] * f[j]
            fl = math.floor(x)
            u = uniform(key, 7, c)
            c += 1
            v = int(fl) + (1 if u < x - fl else 0)
            wq[i, j] = min(max(v, 0), qmax)
    ctr[0] = c


@njit(cache=True, error_model="numpy")  # numpy error model: no zero-division branch, loops vectorise
def present_kernel(
    ev_ptr, ev_idx, n_on, n_total, mode, learn,
    w, wq, dw_acc,
    v, ge, gi, ref, theta,
    vi, gei, refi,
    fp, ip, tr_pre, tr_post1, tr_post2,
    key, ctr, counts, colgain, ntab, touched,
):
    """Run one presentation (``n_on`` steps with input events, then rest up to ``n_total``).

    ``ntab`` is a table of 2**16 standard normals (read noise); ``touched[j]`` is set to 1 for
    every excitatory neuron that fired while learning (its column has rule changes).
    ``colgain`` is a per-column input gain (length ``n_exc``) or an empty array (gain 1).
    ``counts`` receives the excitatory spike counts of the first ``n_on`` steps.  Returns the
    number of excitatory spikes over the whole presentation (including the rest).
    """
    n_in = w.shape[0] if mode != 1 else wq.shape[0]
    n_exc = v.shape[0]
    dm_e = fp[F_DM_E]
    dt_tau_e = fp[F_DT] / fp[F_TAU_E]
    vrest = fp[F_VREST_E]
    vreset = fp[F_VRESET_E]
    vth = fp[F_VTH_E]
    e_exc = fp[F_EEXC]
    e_inh = fp[F_EINH]
    dge = fp[F_DGE]
    dgi = fp[F_DGI]
    eff = fp[F_EFF]
    theta_plus = fp[F_THETA_PLUS]
    nu_pre = fp[F_NU_PRE]
    nu_post = fp[F_NU_POST]
    wmax = fp[F_WMAX]
    w_inh = fp[F_W_INH_DIRECT]
    dt_tau_i = fp[F_DT] / fp[F_TAU_I]
    dm_i = fp[F_DM_I]
    vrest_i = fp[F_VREST_I]
    vreset_i = fp[F_VRESET_I]
    vth_i = fp[F_VTH_I]
    e_exc_i = fp[F_EEXC_I]
    dge_i = fp[F_DGE_I]
    w_ei = fp[F_W_EI]
    w_ie = fp[F_W_IE]
    effq = eff * fp[F_WSCALE]
    quiet = fp[F_QUIET]
    adc_lsb = fp[F_ADC_LSB]
    adc_max = fp[F_ADC_MAX]
    read_noise = fp[F_READ_NOISE]
    g0 = fp[F_G0]
    read_add = fp[F_READ_ADD]
    ref_e = ip[I_REF_E]
    ref_i = ip[I_REF_I]
    pop = ip[I_POP] == 1
    qmax = ip[I_QMAX]
    pm = ip[I_PM]
    pe = ip[I_PE]
    qm = ip[I_QM]
    qe = ip[I_QE]
    fastfwd = ip[I_FASTFWD] == 1
    pe_mask = (np.int64(1) << pe) - 1
    qe_mask = (np.int64(1) << qe) - 1
    n_tab = tr_pre.shape[0]
    n_inh = vi.shape[0] if pop else 0

    tl_pre = np.full(n_in, -1, np.int64)  # last spike step (-1: none this presentation)
    tl_post = np.full(n_exc, -1, np.int64)
    act_pre = np.empty(n_in, np.int64)
    n_act_pre = 0
    act_post = np.empty(n_exc, np.int64)
    n_act_post = 0
    spk = np.empty(n_exc, np.int64)
    n_spk = 0
    spk_prev = np.empty(n_exc, np.int64)
    n_spk_prev = 0
    spki = np.empty(max(n_inh, 1), np.int64)
    n_spki = 0
    spki_prev = np.empty(max(n_inh, 1), np.int64)
    n_spki_prev = 0
    col = np.zeros(n_exc)
    col2 = np.zeros(n_exc)
    use_adc = adc_lsb > 0.0 or read_noise > 0.0 or read_add > 0.0
    noisy = read_noise > 0.0 or read_add > 0.0
    rn2 = read_noise * read_noise
    adc_inv = 1.0 / adc_lsb if adc_lsb > 0.0 else 0.0
    zcol = np.zeros(n_exc)
    use_gain = colgain.shape[0] == n_exc
    nz = 0
    zbits = np.uint64(0)
    c = ctr[0]
    total = 0
    for j in range(n_exc):
        counts[j] = 0

    t = 0
    while t < n_total:
        # ---- 1. decay
        # (conductances below 1e-30 are flushed to 0: no denormal arithmetic, no effect on v)
        for j in range(n_exc):
            x = ge[j] * dge
            ge[j] = x if x > 1e-30 else 0.0
            x = gi[j] * dgi
            gi[j] = x if x > 1e-30 else 0.0
        for k in range(n_inh):
            x = gei[k] * dge_i
            gei[k] = x if x > 1e-30 else 0.0
        # ---- 2. integrate: input events of this step
        if t < n_on:
            e0 = ev_ptr[t]
            e1 = ev_ptr[t + 1]
            if e1 > e0:
                if use_adc:
                    # column currents of the active rows (weight units), then the exact column-sum
                    # Gaussian of the devices' read noise, the ADC, and the clip at 0 A
                    for j in range(n_exc):
                        col[j] = 0.0
                        col2[j] = 0.0
                    for e in range(e0, e1):
                        i = ev_idx[e]
                        for j in range(n_exc):
                            x = w[i, j]
                            col[j] += x
                            col2[j] += (x + g0) * (x + g0) + g0 * g0
                    if noisy:
                        # variance rn^2 * sum_i (G+_i^2 + G-_i^2) + additive, with G+ = w + g0 and
                        # G- = g0 in weight units.  Standard normals: a per-network table of 2**16
                        # draws indexed by the 16-bit fields of counter-based 64-bit draws (four
                        # normals per draw, in column order, the stream running on across steps);
                        # drawn first so that the arithmetic loop below vectorises
                        for j in range(n_exc):
                            if nz == 0:
                                zbits = bits64(key, 1000003, c)
                                c += 1
                                nz = 4
                            nz -= 1
                            zcol[j] = ntab[np.int64(zbits & np.uint64(0xFFFF))]
                            zbits = zbits >> np.uint64(16)
                        var_add = read_add * (e1 - e0)
                        for j in range(n_exc):
                            col[j] += math.sqrt(rn2 * col2[j] + var_add) * zcol[j]
                    if adc_lsb > 0.0:
                        for j in range(n_exc):
                            x = math.floor(col[j] * adc_inv + 0.5) * adc_lsb
                            col[j] = x if x < adc_max else adc_max
                    if use_gain:
                        for j in range(n_exc):
                            x = col[j]
                            ge[j] += eff * colgain[j] * (x if x > 0.0 else 0.0)
                    else:
                        for j in range(n_exc):
                            x = col[j]
                            ge[j] += eff * (x if x > 0.0 else 0.0)
                elif mode == 1:
                    for e in range(e0, e1):
                        i = ev_idx[e]
                        for j in range(n_exc):
                            ge[j] += effq * wq[i, j]
                elif use_gain:
                    for e in range(e0, e1):
                        i = ev_idx[e]
                        for j in range(n_exc):
                            ge[j] += eff * colgain[j] * w[i, j]
                else:
                    for e in range(e0, e1):
                        i = ev_idx[e]
                        for j in range(n_exc):
                            ge[j] += eff * w[i, j]
        # lateral effects of last step's spikes
        if pop:
            for s in range(n_spk_prev):
                gei[spk_prev[s]] += w_ei
            if n_spki_prev > 0:
                tot = w_ie * n_spki_prev
                for j in range(n_exc):
                    gi[j] += tot
                for s in range(n_spki_prev):
                    gi[spki_prev[s]] -= w_ie
        elif n_spk_prev > 0:
            tot = w_inh * n_spk_prev
            for j in range(n_exc):
                gi[j] += tot
            for s in range(n_spk_prev):
                gi[spk_prev[s]] -= w_inh
        # membranes (branch-free pass over all neurons, vectorised; refractory neurons keep v;
        # with g = 0 it is exactly v_rest + (v - v_rest) * dm) + 3. threshold + 4. reset
        # The threshold scan runs only when some neuron crossed (counted in the vectorised pass);
        # a neuron that fires gets ref + 1 there, so that the vectorised refractory countdown
        # after it leaves exactly ``ref_e`` (the order of the scalar loop: count down, or fire).
        n_cross = 0
        for j in range(n_exc):
            gej = ge[j]
            gij = gi[j]
            g = gej + gij
            vinf = (vrest + gej * e_exc + gij * e_inh) / (1.0 + g)
            vn = vinf + (v[j] - vinf) * (dm_e * _expneg(dt_tau_e * g))
            free = ref[j] <= 0
            v[j] = vn if free else v[j]
            n_cross += 1 if (free and vn > vth + theta[j]) else 0
        n_spk = 0
        if n_cross > 0:
            for j in range(n_exc):
                if ref[j] <= 0 and v[j] > vth + theta[j]:
                    v[j] = vreset
                    ref[j] = ref_e + 1
                    spk[n_spk] = j
                    n_spk += 1
                    if learn:
                        theta[j] += theta_plus
        for j in range(n_exc):
            r = ref[j]
            ref[j] = r - 1 if r > 0 else r
        n_cross = 0
        for k in range(n_inh):
            g = gei[k]
            vinf = (vrest_i + g * e_exc_i) / (1.0 + g)
            vn = vinf + (vi[k] - vinf) * (dm_i * _expneg(dt_tau_i * g))
            free = refi[k] <= 0
            vi[k] = vn if free else vi[k]
            n_cross += 1 if (free and vn > vth_i) else 0
        n_spki = 0
        if n_cross > 0:
            for k in range(n_inh):
                if refi[k] <= 0 and vi[k] > vth_i:
                    vi[k] = vreset_i
                    refi[k] = ref_i + 1
                    spki[n_spki] = k
                    n_spki += 1
        for k in range(n_inh):
            r = refi[k]
            refi[k] = r - 1 if r > 0 else r
        if t < n_on:
            for s in range(n_spk):
                counts[spk[s]] += 1
        total += n_spk
        # ---- 5. plasticity (traces before this step's increments)
        if learn:
            if t < n_on:
                for e in range(ev_ptr[t], ev_ptr[t + 1]):  # pre spikes: depression
                    i = ev_idx[e]
                    for a in range(n_act_post):
                        j = act_post[a]
                        k = t - tl_post[j]
                        if k >= n_tab:
                            continue
                        if mode == 1:
                            p1 = np.int64(tr_post1[k])
                            if p1 > 0:
                                r = np.int64(bits64(key, 3, c) & np.uint64(pe_mask))
                                c += 1
                                d = (p1 * pm + r) >> pe
                                x = wq[i, j] - d
                                wq[i, j] = x if x > 0 else 0
                        elif mode == 0:
                            x = w[i, j] - nu_pre * tr_post1[k]
                            w[i, j] = x if x > 0.0 else 0.0
                        else:
                            dw_acc[i, j] -= nu_pre * tr_post1[k]
            for s in range(n_spk):  # post spikes: potentiation
                j = spk[s]
                if tl_post[j] < 0:
                    continue
                k2 = t - tl_post[j]
                if k2 >= n_tab:
                    continue
                p2f = tr_post2[k2]
                if p2f == 0.0:
                    continue
                for a in range(n_act_pre):
                    i = act_pre[a]
                    k = t - tl_pre[i]
                    if k >= n_tab:
                        continue
                    if mode == 1:
                        prod = np.int64(tr_pre[k]) * np.int64(p2f)
                        if prod > 0:
                            r = np.int64(bits64(key, 4, c) & np.uint64(qe_mask))
                            c += 1
                            d = (prod * qm + r) >> qe
                            x = wq[i, j] + d
                            wq[i, j] = x if x < qmax else qmax
                    elif mode == 0:
                        x = w[i, j] + nu_post * tr_pre[k] * p2f
                        w[i, j] = x if x < wmax else wmax
                    else:
                        dw_acc[i, j] += nu_post * tr_pre[k] * p2f
        # ---- 6. trace increments
        if t < n_on:
            for e in range(ev_ptr[t], ev_ptr[t + 1]):
                i = ev_idx[e]
                if tl_pre[i] < 0:
                    act_pre[n_act_pre] = i
                    n_act_pre += 1
                tl_pre[i] = t
        for s in range(n_spk):
            j = spk[s]
            if tl_post[j] < 0:
                act_post[n_act_post] = j
                n_act_post += 1
                if learn:
                    touched[j] = 1
            tl_post[j] = t
            spk_prev[s] = j
        n_spk_prev = n_spk
        for s in range(n_spki):
            spki_prev[s] = spki[s]
        n_spki_prev = n_spki
        t += 1
        # ---- quiescent rest: fast-forward exactly (no input, negligible conductances, nothing pending)
        if fastfwd and t >= n_on and t < n_total and n_spk_prev == 0 and n_spki_prev == 0:
            busy = False
            for j in range(n_exc):
                if ge[j] > quiet or gi[j] > quiet or ref[j] > 0:
                    busy = True
                    break
            if not busy:
                for k in range(n_inh):
                    if gei[k] > quiet or refi[k] > 0:
                        busy = True
                        break
            if not busy:
                m = n_total - t
                fe = dm_e**m
                fg = dge**m
                fgi = dgi**m
                for j in range(n_exc):
                    v[j] = vrest + (v[j] - vrest) * fe
                    ge[j] *= fg
                    gi[j] *= fgi
                if n_inh > 0:
                    fi = dm_i**m
                    fgei = dge_i**m
                    for k in range(n_inh):
                        vi[k] = vrest_i + (vi[k] - vrest_i) * fi
                        gei[k] *= fgei
                t = n_total
    ctr[0] = c
    return total
