// The inference-aware optimum (Sardana et al. 2024) for the fitted law, computed in the
// page: minimise training 6·N·D plus inference 2·N·T at the loss of the Chinchilla
// optimum. A port of ladder-fit's inference.rs (the report's test checks it against the
// Rust values embedded in #checks).
"use strict";
(function () {
  const law = JSON.parse(document.getElementById("law").textContent);
  const $ = (id) => document.getElementById(id);

  function loss(n, d) {
    return law.E + law.A / Math.pow(n, law.alpha) + law.B / Math.pow(d, law.beta);
  }

  // Hoffmann et al. 2022, eq. 4.
  function computeOptimal(c) {
    const a = law.beta / (law.alpha + law.beta);
    const b = law.alpha / (law.alpha + law.beta);
    const g = Math.pow((law.alpha * law.A) / (law.beta * law.B), 1 / (law.alpha + law.beta));
    return { n: g * Math.pow(c / 6, a), d: Math.pow(c / 6, b) / g };
  }

  function goldenMin(f, lo, hi) {
    const r = (Math.sqrt(5) - 1) / 2;
    let x1 = hi - r * (hi - lo), x2 = lo + r * (hi - lo);
    let f1 = f(x1), f2 = f(x2);
    for (let i = 0; i < 200; i++) {
      if (f1 <= f2) {
        hi = x2; x2 = x1; f2 = f1; x1 = hi - r * (hi - lo); f1 = f(x1);
      } else {
        lo = x1; x1 = x2; f1 = f2; x2 = lo + r * (hi - lo); f2 = f(x2);
      }
    }
    return 0.5 * (lo + hi);
  }

  // The cheapest (N, D) reaching `target` loss with T inference tokens.
  function optimumForLoss(target, t) {
    const gap = target - law.E;
    if (!(gap > 0 && t >= 0)) return null;
    const nMin = Math.pow(law.A / gap, 1 / law.alpha);
    const dOf = (n) => Math.pow(law.B / (gap - law.A / Math.pow(n, law.alpha)), 1 / law.beta);
    const cost = (logN) => { const n = Math.exp(logN); return 6 * n * dOf(n) + 2 * n * t; };
    const n = Math.exp(goldenMin(cost, Math.log(nMin) + 1e-9, Math.log(nMin) + 40));
    return { n: n, d: dOf(n) };
  }

  // Slider position 0 is no inference; 1-100 span 0.01x to 1000x the Chinchilla D*.
  function tokensAt(s, dChinchilla) {
    return s <= 0 ? 0 : dChinchilla * Math.pow(10, -2 + (5 * (s - 1)) / 99);
  }

  function fmt(x) {
    if (!isFinite(x)) return "–";
    if (x === 0) return "0";
    const a = Math.abs(x);
    return a >= 0.01 && a < 1000 ? x.toPrecision(3) : x.toExponential(2);
  }

  function set(id, value, text) {
    const el = $(id);
    el.dataset.value = String(value);
    el.textContent = text === undefined ? fmt(value) : text;
  }

  // 100·x with two decimals; a saving that rounds to zero reads 0.00%, never -0.00%.
  function percent(x) {
    const text = (100 * x).toFixed(2);
    return (/^-0\.0+$/.test(text) ? text.slice(1) : text) + "%";
  }

  function update() {
    const c = Number($("budget").value);
    const s = Number($("tokens").value);
    if (!(c > 0)) { $("inference-status").textContent = "Enter a budget C > 0."; return; }
    const chin = computeOptimal(c);
    const t = tokensAt(s, chin.d);
    const target = loss(chin.n, chin.d);
    const inf = optimumForLoss(target, t);
    set("tokens-value", t, fmt(t) + " tokens (" + fmt(t / chin.d) + " × D*)");
    set("target-loss", target);
    const chinCost = 6 * chin.n * chin.d + 2 * chin.n * t;
    set("chin-n", chin.n); set("chin-d", chin.d); set("chin-ratio", chin.d / chin.n);
    set("chin-cost", chinCost);
    if (!inf) {
      $("inference-status").textContent = "The fitted law gives no finite optimum here (E ≥ target loss).";
      return;
    }
    const infCost = 6 * inf.n * inf.d + 2 * inf.n * t;
    set("inf-n", inf.n); set("inf-d", inf.d); set("inf-ratio", inf.d / inf.n);
    set("inf-cost", infCost);
    const saved = 1 - infCost / chinCost;
    set("saved", saved, percent(saved));
    $("inference-status").textContent = "";
  }

  $("tokens").addEventListener("input", update);
  $("budget").addEventListener("input", update);
  window.ladderInference = { tokensAt: tokensAt, optimumForLoss: optimumForLoss, computeOptimal: computeOptimal, loss: loss };
  update();
})();
