#!/usr/bin/env python3
"""Other law forms on a lab's point means: the exploration of docs/LOG.md (thirty-sixth
session). Each lab's point means of ln loss (its seeds averaged), fitted by least squares
in log space from 300 random starts, and each fit's lack-of-fit F against the pooled seed
variance (points - k and runs - points dof), as `ladder fit`'s test but by least squares:
- F0 Chinchilla, E + A/N^alpha + B/D^beta (k 5)
- F1 Kaplan's joint form with an irreducible term, E + [(N_c/N)^(a_N/a_D) + D_c/D]^a_D (5)
- F2 Chinchilla on N_eff = N_nonemb + w N_emb, w in [0, 1] (6)
- F3 a curvature in the N term, A exp(-alpha x - delta x^2), x = ln N - mean ln N (6)
- F4 an interaction, + G/(N^alpha D^beta) (6)
- F5 (added after the others were read) a curvature in the D term, as F3's in ln D (6)
and the extra-sum-of-squares F of F3 and F5 against F0. The points are treated as
independent, though a model's runs of one seed share noise (WSD branches), so read the
p-values as too small; the four draws of one recipe are independent of each other.

Needs numpy and scipy, which ladder does not: `python3 -m venv /tmp/venv &&
/tmp/venv/bin/pip install numpy scipy`. Reads results/LAB/report/runs.csv.

Usage: law_forms.py [LAB ...] [--hold-out-largest K]
  (default the four depth-2 draws, from the repository root; with --hold-out-largest,
  F0 and F3 fitted without each lab's K largest models and their point means predicted)
"""
import csv, math, sys, collections
import numpy as np
from scipy.optimize import least_squares
from scipy.stats import f as fdist
rng = np.random.default_rng(0)

def load(lab):
    runs = [r for r in csv.DictReader(open(f'results/{lab}/report/runs.csv')) if r['status'] == 'finished']
    pts = collections.defaultdict(list)
    for r in runs:
        pts[(float(r['N_total']), float(r['N_nonemb']), float(r['D']))].append(math.log(float(r['final_val_loss'])))
    keys = sorted(pts)
    N = np.array([k[0] for k in keys]); Nne = np.array([k[1] for k in keys]); D = np.array([k[2] for k in keys])
    ybar = np.array([np.mean(pts[k]) for k in keys]); K = np.array([len(pts[k]) for k in keys])
    sspe = sum(sum((y - np.mean(pts[k])) ** 2 for y in pts[k]) for k in keys)
    return dict(N=N, Nne=Nne, D=D, ybar=ybar, K=K, sspe=sspe, n=len(runs), P=len(keys))

def chin(th, d, N=None):
    e, a, al, b, be = th
    N = d['N'] if N is None else N
    return np.exp(e) + np.exp(a - al * np.log(N)) + np.exp(b - be * np.log(d['D']))

def kap(th, d):
    e, lnc, lnd, an, ad = th
    inner = np.logaddexp((an / ad) * (lnc - np.log(d['N'])), lnd - np.log(d['D']))
    return np.exp(e) + np.exp(ad * inner)

def neff(th, d):
    w = th[5]
    return chin(th[:5], d, d['Nne'] + w * (d['N'] - d['Nne']))

def curv(th, d):
    e, a, al, b, be, de = th
    x = np.log(d['N']) - d['xbar']
    return np.exp(e) + np.exp(a - al * x - de * x * x) + np.exp(b - be * np.log(d['D']))

def inter(th, d):
    e, a, al, b, be, g = th
    return chin(th[:5], d) + g * np.exp(-al * np.log(d['N']) - be * np.log(d['D']))

def starts(form, d):
    for _ in range(300):
        e = math.log(rng.uniform(0.5, 1.6)); al = rng.uniform(0.1, 1.2); be = rng.uniform(0.1, 1.2)
        a = rng.uniform(0, 12); b = rng.uniform(0, 16)
        if form == 'F0': yield [e, a, al, b, be]
        elif form == 'F1': yield [e, rng.uniform(5, 20), rng.uniform(8, 25), rng.uniform(0.05, 1), rng.uniform(0.05, 1)]
        elif form == 'F2': yield [e, a, al, b, be, rng.uniform(0, 1)]
        elif form == 'F3': yield [e, rng.uniform(-4, 1), al, b, be, rng.uniform(-0.2, 0.2)]
        elif form == 'F5': yield [e, a, al, rng.uniform(-4, 1), be, rng.uniform(-0.2, 0.2)]
        elif form == 'F4': yield [e, a, al, b, be, rng.normal(0, 1) * math.exp(rng.uniform(0, 20))]

def curvd(th, d):
    e, a, al, b, be, de = th
    z = np.log(d['D']) - d['zbar']
    return np.exp(e) + np.exp(a - al * np.log(d['N'])) + np.exp(b - be * z - de * z * z)

FORMS = {'F0': (chin, 5), 'F1': (kap, 5), 'F2': (neff, 6), 'F3': (curv, 6), 'F4': (inter, 6), 'F5': (curvd, 6)}
BOUNDS = {'F2': ([-np.inf] * 5 + [0], [np.inf] * 5 + [1])}

def fit_params(form, d):
    """The least-squares fit of `form` to `d`'s point means, best of 300 starts."""
    fn, k = FORMS[form]
    def res(th):
        f = fn(np.asarray(th), d)
        bad = ~(f > 0) | ~np.isfinite(f)
        out = np.sqrt(d['K']) * (d['ybar'] - np.log(np.where(bad, 1.0, f)))
        out[bad] = 10.0
        return out
    best = None
    lb, ub = BOUNDS.get(form, (-np.inf, np.inf))
    for th0 in starts(form, d):
        th0 = np.clip(th0, np.array(lb) + 1e-9 if form in BOUNDS else -np.inf, np.array(ub) - 1e-9 if form in BOUNDS else np.inf)
        try:
            r = least_squares(res, th0, bounds=(lb, ub), method='trf' if form in BOUNDS else 'lm', max_nfev=4000)
        except Exception:
            continue
        if np.isfinite(r.cost) and (best is None or r.cost < best.cost):
            best = r
    return best


def fit(form, d):
    """The fit and its lack-of-fit F, dof and p."""
    k = FORMS[form][1]
    best = fit_params(form, d)
    sslof = 2 * best.cost
    df1, df2 = d['P'] - k, d['n'] - d['P']
    F = (sslof / df1) / (d['sspe'] / df2)
    return best, F, df1, df2, fdist.sf(F, df1, df2)

def hold_out(d, k):
    """The point means of every model but the k largest, and those k's."""
    largest = sorted(set(d['N']))[-k:]
    out = np.isin(d['N'], largest)
    train = {key: (v[~out] if isinstance(v, np.ndarray) else v) for key, v in d.items()}
    test = {key: (v[out] if isinstance(v, np.ndarray) else v) for key, v in d.items()}
    train['P'] = int((~out).sum())
    train['n'] = int(d['K'][~out].sum())
    train['sspe'] = None  # the lack-of-fit numbers of a partial fit are not read
    return train, test, largest


def extrapolation(labs, k):
    """F0 and F3 fitted without each lab's k largest models, predicting them."""
    rms = {'F0': [], 'F3': []}
    for lab in labs:
        train, test, largest = hold_out(load(lab), k)
        train['xbar'] = test['xbar'] = np.mean(np.log(train['N']))
        print(f"{lab}: held out N {', '.join(f'{n:.0f}' for n in largest)} ({len(test['N'])} points)")
        for form in rms:
            fn = FORMS[form][0]
            r = fit_params(form, train)
            e = test['ybar'] - np.log(fn(r.x, test))
            rms[form].append(100 * math.sqrt(np.mean(e ** 2)))
            print(f"  {form}: held-out mean error {100 * e.mean():+.2f}%  RMS {rms[form][-1]:.2f}%  params {np.round(r.x, 3).tolist()}")
    wins = sum(a < b for a, b in zip(rms['F3'], rms['F0']))
    print(f"F3's RMS below F0's in {wins} of {len(labs)}; mean RMS F0 {np.mean(rms['F0']):.2f}%, F3 {np.mean(rms['F3']):.2f}%")


def main():
    args = sys.argv[1:]
    k = 0
    if '--hold-out-largest' in args:
        i = args.index('--hold-out-largest')
        k = int(args[i + 1])
        del args[i:i + 2]
    labs = args or ['lab-cpu', 'lab-cpu-d2-third', 'lab-cpu-d2-confirm', 'lab-cpu-d2-wide']
    if k > 0:
        extrapolation(labs, k)
        return
    for lab in labs:
        in_sample(lab)


def in_sample(lab):
    d = load(lab); d['xbar'] = np.mean(np.log(d['N'])); d['zbar'] = np.mean(np.log(d['D']))
    print(f'{lab}: {d["P"]} points, {d["n"]} runs, seed SD {math.sqrt(d["sspe"] / (d["n"] - d["P"])):.4f}')
    ss = {}
    for form in FORMS:
        r, F, df1, df2, p = fit(form, d)
        fn, _ = FORMS[form]
        resid = d['ybar'] - np.log(fn(r.x, d))
        by = collections.defaultdict(list)
        for n, e in zip(d['N'], resid): by[n].append(e)
        means = ' '.join(f'{100 * np.mean(by[n]):+.2f}' for n in sorted(by))
        ss[form] = F * df1
        print(f'  {form}: rms {math.sqrt(np.mean(resid ** 2)) * 100:.3f}%  F {F:.2f} on ({df1}, {df2}) p {p:.2g}  params {np.round(r.x, 4).tolist()}')
        print(f'      model means (by N ascending): {means}')
    for c in ('F3', 'F5'):
        dss = ss['F0'] - ss[c]
        print(f'  {c} against F0 (delta = 0): F {dss:.1f} on (1, {d["n"] - d["P"]}) p {fdist.sf(dss, 1, d["n"] - d["P"]):.2g}')


if __name__ == '__main__':
    main()
