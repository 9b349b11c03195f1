#!/usr/bin/env python3
"""Trains Sentinel's risk model (models/risk-v1.onnx) and writes its model card
(models/risk-v1.json). Run it through train.sh, which installs the pinned
packages (requirements.txt) into a venv first.

Reproducible: a fixed seed, pinned numpy and onnx, single-threaded BLAS, and
no timestamps in the output, so two runs write the same bytes (train.sh
--check compares the SHA-256 of two runs).

What it does (README.md has the long form):
1. Simulates the signing requests of many keys (synthetic: normal trading flows
   with injected anomalies, labelled), and computes for each request the nine
   features exactly as crates/policy/src/features.rs does, from the key's own
   history of allowed requests (EWMAs, counterparties seen, 60 one-second
   velocity buckets).
2. Splits by key (held-out keys never seen in training), trains a 9 -> 16 -> 1
   MLP (tanh, sigmoid) by mini-batch gradient descent with momentum, in numpy.
3. Exports it to ONNX (opset 13: Gemm, Tanh, Gemm, Sigmoid; input "features"
   f32 [N, 9], output "risk" f32 [N, 1]; the feature standardisation is folded
   into the first Gemm), evaluates the exported model with onnx's reference
   evaluator on the held-out keys, and writes the model and the card.
"""
import os

# Single-threaded BLAS: same summation order on every run.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402
import google.protobuf  # noqa: E402

SEED = 20260509

# --- features: the same constants and definitions as crates/policy/src/features.rs ---------------

FEATURE_NAMES = [
    "amount_log_ratio",
    "new_counterparty",
    "velocity_1m",
    "hour_sin",
    "hour_cos",
    "fee_log_ratio",
    "is_approval",
    "unlimited_approval",
    "unknown_calldata",
]
FEATURE_DEFINITIONS = {
    "amount_log_ratio": "log2(1 + a) - ewma, a = the request's largest movement amount (base units, as f64) "
    "leaving out approvals >= 2^160 - 1; ewma = the key's EWMA (alpha 0.1, first observation initialises it) of "
    "the same over its allowed requests that had an amount; 0 when the request has no such amount or the key "
    "no amount history",
    "new_counterparty": "1 if any recipient or spender of the request was never seen in the key's allowed "
    "requests (set of at most 4096; once full, anything not in it is new), else 0",
    "velocity_1m": "ln(1 + n), n = allowed requests of the key in the last 60 s (60 one-second buckets: the "
    "current second and the 59 before it)",
    "hour_sin": "sin(2*pi*h/24), h = UTC hour of day (integer 0..23)",
    "hour_cos": "cos(2*pi*h/24), h = UTC hour of day (integer 0..23)",
    "fee_log_ratio": "ln((fee + 1) / (ewma_fee + 1)), fee = max_fee_per_gas or gas_price (wei), ewma_fee = "
    "the key's EWMA (alpha 0.1) of the fee of its allowed requests; 0 when the request has no fee or the key "
    "no fee history",
    "is_approval": "1 if any movement is an approval (ERC-20 approve, EIP-2612 or Permit2 permit)",
    "unlimited_approval": "1 if any approval's amount is >= 2^160 - 1",
    "unknown_calldata": "1 if the transaction's calldata is not a known ERC-20 call (transfer, transferFrom, approve)",
}
FEATURE_LIMIT = 20.0
EWMA_ALPHA = 0.1
MAX_COUNTERPARTIES = 4096
VELOCITY_BUCKETS = 60
UNLIMITED = (1 << 160) - 1  # Permit2's type(uint160).max; ERC-20's 2^256 - 1 is above it
MAX_U256 = (1 << 256) - 1
US = 1_000_000
HOUR_US = 3600 * US


def bounded(x):
    if math.isnan(x):
        return 0.0
    return min(max(x, -FEATURE_LIMIT), FEATURE_LIMIT)


class Request:
    """A decoded request as the enclave sees it (only what the features read)."""

    __slots__ = ("movements", "fee", "unknown_calldata")

    def __init__(self, movements, fee, unknown_calldata):
        # movements: list of (amount: int, kind: "native" | "transfer" | "approval", counterparty: int | None)
        self.movements = movements
        self.fee = fee  # int wei, or None (typed data)
        self.unknown_calldata = unknown_calldata

    def amount_log(self):
        amounts = [a for (a, kind, _) in self.movements if not (kind == "approval" and a >= UNLIMITED)]
        if not amounts:
            return None
        return math.log2(1.0 + float(max(amounts)))

    def counterparties(self):
        return [c for (_, _, c) in self.movements if c is not None]


class History:
    """Mirror of features.rs's RiskHistory."""

    def __init__(self):
        self.amount_ewma = None
        self.fee_ewma = None
        self.counterparties = set()
        self.bucket_second = [0] * VELOCITY_BUCKETS
        self.bucket_count = [0] * VELOCITY_BUCKETS

    def velocity(self, now_us):
        now_s = now_us // US
        n = 0
        for second, count in zip(self.bucket_second, self.bucket_count):
            if count > 0 and max(now_s - second, 0) < VELOCITY_BUCKETS:
                n += count
        return n

    def features(self, req, now_us, extra_recent=0):
        """extra_recent: allowed requests added to the velocity count (a simulated burst)."""
        x = req.amount_log()
        amount_log_ratio = x - self.amount_ewma if (x is not None and self.amount_ewma is not None) else 0.0
        new_cp = any(c not in self.counterparties for c in req.counterparties())
        velocity = math.log(1.0 + float(self.velocity(now_us) + extra_recent))
        hour = (now_us // HOUR_US) % 24
        angle = 2.0 * math.pi * hour / 24.0
        if req.fee is not None and self.fee_ewma is not None:
            fee_log_ratio = math.log((float(req.fee) + 1.0) / (self.fee_ewma + 1.0))
        else:
            fee_log_ratio = 0.0
        is_approval = any(kind == "approval" for (_, kind, _) in req.movements)
        unlimited = any(kind == "approval" and a >= UNLIMITED for (a, kind, _) in req.movements)
        return [
            bounded(amount_log_ratio),
            1.0 if new_cp else 0.0,
            bounded(velocity),
            bounded(math.sin(angle)),
            bounded(math.cos(angle)),
            bounded(fee_log_ratio),
            1.0 if is_approval else 0.0,
            1.0 if unlimited else 0.0,
            1.0 if req.unknown_calldata else 0.0,
        ]

    def observe(self, req, now_us):
        x = req.amount_log()
        if x is not None:
            self.amount_ewma = x if self.amount_ewma is None else self.amount_ewma + EWMA_ALPHA * (x - self.amount_ewma)
        if req.fee is not None:
            f = float(req.fee)
            self.fee_ewma = f if self.fee_ewma is None else self.fee_ewma + EWMA_ALPHA * (f - self.fee_ewma)
        for c in req.counterparties():
            if len(self.counterparties) >= MAX_COUNTERPARTIES:
                break
            self.counterparties.add(c)
        second = now_us // US
        i = second % VELOCITY_BUCKETS
        if self.bucket_second[i] != second:
            self.bucket_second[i] = second
            self.bucket_count[i] = 0
        self.bucket_count[i] += 1


# --- the synthetic data generator ----------------------------------------------------------------

KEYS = 800
REQUESTS_PER_KEY = 150
WARMUP = 10  # anomalies are injected only once a key has this many allowed requests (a baseline)
ANOMALY_RATE = 0.18
ANOMALY_TYPES = {
    # name: weight
    "amount_spike": 0.25,
    "unlimited_approval_new_counterparty": 0.18,
    "velocity_burst_odd_hour": 0.15,
    "fee_spike": 0.15,
    "unknown_calldata_new_destination": 0.15,
    "combined": 0.12,
}
T0_US = 1_767_225_600 * US  # 2026-01-01T00:00:00Z


class Key:
    def __init__(self, rng, ids):
        self.rng = rng
        self.ids = ids
        self.bot = rng.random() < 0.3
        # Typical amount, log2 of base units: from ~1e6 (1 USDC) to ~1e20 (100 ETH).
        self.mu = rng.uniform(20.0, 66.0)
        self.sigma = rng.uniform(0.5, 2.0)
        self.base_fee = 10.0 ** rng.uniform(8.0, 11.3)  # 0.1 .. 200 gwei
        self.p_new = rng.uniform(0.01, 0.10)
        self.p_approval = rng.uniform(0.0, 0.25)
        self.p_unknown = rng.uniform(0.0, 0.35)
        self.p_permit = rng.uniform(0.0, 0.10)
        if self.bot:
            self.mean_gap_s = 10.0 ** rng.uniform(0.7, 2.3)  # 5 s .. 200 s
            self.center, self.width = 12.0, 24.0
        else:
            self.mean_gap_s = 10.0 ** rng.uniform(1.8, 4.0)  # 1 min .. 3 h
            self.center = (rng.choice([14.5, 9.0, 3.0]) + rng.normal(0.0, 1.5)) % 24.0
            self.width = rng.uniform(8.0, 14.0)
        self.pool = [self.new_id() for _ in range(int(rng.integers(2, 12)))]
        self.t = T0_US + int(rng.integers(0, 60 * 86400)) * US

    def new_id(self):
        self.ids[0] += 1
        return self.ids[0]

    def active(self, hour):
        d = abs(hour + 0.5 - self.center) % 24.0
        return min(d, 24.0 - d) <= self.width / 2.0

    def odd_hour_time(self):
        """A time in the next hour outside the key's active window (any hour for a 24/7 bot)."""
        t = self.t
        if self.width >= 24.0:
            return t + int(self.rng.integers(0, 24)) * HOUR_US
        for _ in range(48):
            t += HOUR_US
            h = (t // HOUR_US) % 24
            d = abs(h + 0.5 - self.center) % 24.0
            if min(d, 24.0 - d) > self.width / 2.0 + 1.0:
                return t
        return t

    def advance(self):
        rng = self.rng
        gap = rng.exponential(10.0 if rng.random() < 0.1 else self.mean_gap_s)  # sometimes a quick batch
        self.t += max(1, int(gap * US))
        for _ in range(24):
            if self.active((self.t // HOUR_US) % 24) or rng.random() < 0.05:
                break
            self.t = (self.t // HOUR_US + 1) * HOUR_US + int(rng.integers(0, 3600)) * US

    def amount(self, shift=0.0):
        x = self.rng.normal(self.mu, self.sigma) + shift
        return max(1, int(2.0 ** min(x, 250.0)))

    def fee(self):
        f = self.base_fee * math.exp(self.rng.normal(0.0, 0.25))
        if self.rng.random() < 0.05:  # congestion
            f *= self.rng.uniform(2.0, 4.0)
        return int(f)

    def counterparty(self, new):
        if new:
            c = self.new_id()
            self.pool.append(c)
            return c
        # Favourites first: a roughly Zipf choice among the known ones.
        i = min(int(self.rng.pareto(1.2)), len(self.pool) - 1)
        return self.pool[i]

    def normal_request(self):
        rng = self.rng
        new = rng.random() < self.p_new
        r = rng.random()
        if r < self.p_permit:  # EIP-2612 / Permit2 typed data: an approval, no fee
            amount = MAX_U256 if rng.random() < 0.3 else self.amount()
            return Request([(amount, "approval", self.counterparty(new and rng.random() < 0.2))], None, False)
        r -= self.p_permit
        if r < self.p_approval:
            # Bounded approval, or (sometimes) an unlimited one to a spender the key already uses.
            if rng.random() < 0.15:
                unlimited_new = rng.random() < 0.02
                return Request([(MAX_U256, "approval", self.counterparty(unlimited_new))], self.fee(), False)
            return Request([(self.amount(), "approval", self.counterparty(new))], self.fee(), False)
        r -= self.p_approval
        if r < self.p_unknown:  # a contract call (swap, deposit, ...), sometimes with native value
            router = self.counterparty(new and rng.random() < 0.3)
            movements = [(self.amount(), "native", router)] if rng.random() < 0.5 else []
            return Request(movements, self.fee(), True)
        # A native or ERC-20 transfer; rarely a larger one than usual.
        shift = rng.uniform(1.5, 3.5) if rng.random() < 0.03 else 0.0
        kind = "native" if rng.random() < 0.5 else "transfer"
        return Request([(self.amount(shift), kind, self.counterparty(new))], self.fee(), False)

    def anomaly(self, kind, history):
        """(request, now_us, extra_recent) of an anomalous request; never observed."""
        rng = self.rng
        now = self.t + max(1, int(rng.exponential(self.mean_gap_s) * US))
        extra = 0
        fee = self.fee()
        if kind == "amount_spike":
            req = Request([(self.amount(rng.uniform(4.0, 30.0)), rng.choice(["native", "transfer"]),
                            self.new_id() if rng.random() < 0.5 else self.counterparty(False))], fee, False)
        elif kind == "unlimited_approval_new_counterparty":
            amount = MAX_U256 if rng.random() < 0.8 else UNLIMITED + int(rng.integers(0, 1 << 62))
            req = Request([(amount, "approval", self.new_id())], None if rng.random() < 0.4 else fee, False)
        elif kind == "velocity_burst_odd_hour":
            now = self.odd_hour_time()
            extra = int(rng.integers(20, 150))
            req = self.normal_request()
            req.movements = [(a, k, self.new_id() if (c is not None and rng.random() < 0.5) else c)
                             for (a, k, c) in req.movements]
        elif kind == "fee_spike":
            req = self.normal_request()
            base = history.fee_ewma if history.fee_ewma is not None else self.base_fee
            req.fee = int(base * math.exp(rng.uniform(math.log(25.0), math.log(20000.0))))
        elif kind == "unknown_calldata_new_destination":
            movements = [(self.amount(rng.uniform(1.0, 8.0)), "native", self.new_id())] if rng.random() < 0.7 else []
            if rng.random() < 0.5:
                now = self.odd_hour_time()
            req = Request(movements, fee, True)
        else:  # combined: an unlimited approval to a new spender, with a spike, a burst or a fee spike
            movements = [(MAX_U256, "approval", self.new_id())]
            parts = [p for p in ("spike", "burst", "fee") if rng.random() < 0.6] or ["spike"]
            if "spike" in parts:
                movements.insert(0, (self.amount(rng.uniform(5.0, 30.0)), "native", self.new_id()))
            if "burst" in parts:
                extra = int(rng.integers(20, 150))
                now = self.odd_hour_time()
            if "fee" in parts:
                base = history.fee_ewma if history.fee_ewma is not None else self.base_fee
                fee = int(base * math.exp(rng.uniform(math.log(25.0), math.log(20000.0))))
            req = Request(movements, fee, False)
        return req, now, extra


def generate(rng):
    ids = [0]
    names = list(ANOMALY_TYPES)
    weights = np.array([ANOMALY_TYPES[n] for n in names])
    weights = weights / weights.sum()
    rows, labels, kinds, keys = [], [], [], []
    for k in range(KEYS):
        key = Key(rng, ids)
        history = History()
        for i in range(REQUESTS_PER_KEY):
            key.advance()
            if i >= WARMUP and rng.random() < ANOMALY_RATE:
                kind = names[int(rng.choice(len(names), p=weights))]
                req, now, extra = key.anomaly(kind, history)
                rows.append(history.features(req, now, extra))
                labels.append(1)
                kinds.append(kind)
            else:
                req = key.normal_request()
                rows.append(history.features(req, key.t))
                labels.append(0)
                kinds.append("normal")
                history.observe(req, key.t)  # only allowed (normal) requests enter the history
            keys.append(k)
    return (np.array(rows, dtype=np.float64), np.array(labels, dtype=np.float64), np.array(kinds), np.array(keys))


# --- the model -------------------------------------------------------------------------------------

HIDDEN = 16
EPOCHS = 60
BATCH = 256
LEARNING_RATE = 0.05
MOMENTUM = 0.9
L2 = 1e-4


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def train(rng, x, y):
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std[std < 1e-6] = 1.0
    xs = (x - mean) / std
    n, d = xs.shape
    w1 = rng.normal(0.0, math.sqrt(1.0 / d), size=(d, HIDDEN))
    b1 = np.zeros(HIDDEN)
    w2 = rng.normal(0.0, math.sqrt(1.0 / HIDDEN), size=(HIDDEN, 1))
    b2 = np.zeros(1)
    params = [w1, b1, w2, b2]
    velocity = [np.zeros_like(p) for p in params]
    for epoch in range(EPOCHS):
        lr = LEARNING_RATE * (0.5 * (1.0 + math.cos(math.pi * epoch / EPOCHS)))  # cosine decay
        order = rng.permutation(n)
        for start in range(0, n, BATCH):
            idx = order[start:start + BATCH]
            xb, yb = xs[idx], y[idx, None]
            h = np.tanh(xb @ w1 + b1)
            p = sigmoid(h @ w2 + b2)
            g = (p - yb) / len(idx)  # d(mean BCE)/d(logit)
            gw2 = h.T @ g + L2 * w2
            gb2 = g.sum(axis=0)
            gh = (g @ w2.T) * (1.0 - h * h)
            gw1 = xb.T @ gh + L2 * w1
            gb1 = gh.sum(axis=0)
            for p_, v_, g_ in zip(params, velocity, [gw1, gb1, gw2, gb2]):
                v_ *= MOMENTUM
                v_ -= lr * g_
                p_ += v_
    # Fold the standardisation into the first layer: the model takes raw features.
    w1_raw = w1 / std[:, None]
    b1_raw = b1 - (mean / std) @ w1
    return w1_raw, b1_raw, w2, b2, mean, std


def export(w1, b1, w2, b2):
    f32 = lambda a, name: numpy_helper.from_array(np.asarray(a, dtype=np.float32), name)  # noqa: E731
    graph = helper.make_graph(
        [
            helper.make_node("Gemm", ["features", "w1", "b1"], ["hidden_pre"], name="dense1"),
            helper.make_node("Tanh", ["hidden_pre"], ["hidden"], name="tanh1"),
            helper.make_node("Gemm", ["hidden", "w2", "b2"], ["logit"], name="dense2"),
            helper.make_node("Sigmoid", ["logit"], ["risk"], name="sigmoid"),
        ],
        "sentinel_risk_v1",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", len(FEATURE_NAMES)])],
        [helper.make_tensor_value_info("risk", TensorProto.FLOAT, ["N", 1])],
        initializer=[f32(w1, "w1"), f32(b1, "b1"), f32(w2, "w2"), f32(b2, "b2")],
        doc_string="Sentinel risk model v1: features (" + ", ".join(FEATURE_NAMES) + ") -> probability of an anomalous request",
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 13)],
        producer_name="sentinel scripts/risk-model/train.py",
        producer_version="1",
    )
    model.ir_version = 7
    model.model_version = 1
    helper.set_model_props(model, {"feature_names": ",".join(FEATURE_NAMES), "seed": str(SEED)})
    onnx.checker.check_model(model, full_check=True)
    return model.SerializeToString(deterministic=True)


# --- metrics ---------------------------------------------------------------------------------------


def auc(scores, labels):
    """Area under the ROC curve (Mann-Whitney U, ties counted half)."""
    order = np.argsort(scores, kind="mergesort")
    s = scores[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[i:j + 1] = (i + j) / 2.0 + 1.0
        i = j + 1
    r = np.empty(len(s))
    r[order] = ranks
    pos = labels == 1
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return float((r[pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def at_threshold(scores, labels, threshold):
    flagged = scores >= threshold
    pos = labels == 1
    tp = int((flagged & pos).sum())
    fp = int((flagged & ~pos).sum())
    fn = int((~flagged & pos).sum())
    tn = int((~flagged & ~pos).sum())
    return {
        "flagged": tp + fp,
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
        "true_negatives": tn,
        "precision": round(tp / (tp + fp), 4) if tp + fp else None,
        "recall": round(tp / (tp + fn), 4) if tp + fn else None,
        "false_positive_rate": round(fp / (fp + tn), 4) if fp + tn else None,
        "accuracy": round((tp + tn) / len(labels), 4),
    }


def metrics(scores, labels, kinds):
    out = {
        "samples": int(len(labels)),
        "anomalies": int(labels.sum()),
        "auc": round(auc(scores, labels), 4),
        "accuracy_at_0.5": round(float(((scores >= 0.5) == (labels == 1)).mean()), 4),
        "log_loss": round(float(-np.mean(labels * np.log(np.clip(scores, 1e-7, 1.0))
                                         + (1 - labels) * np.log(np.clip(1.0 - scores, 1e-7, 1.0)))), 4),
        "at_6000_bps": at_threshold(scores, labels, 0.60),
        "at_8500_bps": at_threshold(scores, labels, 0.85),
        "recall_by_anomaly_type": {},
    }
    for kind in ANOMALY_TYPES:
        m = kinds == kind
        if m.any():
            out["recall_by_anomaly_type"][kind] = {
                "samples": int(m.sum()),
                "at_6000_bps": round(float((scores[m] >= 0.60).mean()), 4),
                "at_8500_bps": round(float((scores[m] >= 0.85).mean()), 4),
            }
    return out


# --- reference vectors (also asserted by crates/policy/tests/risk.rs) ------------------------------


def hour_features(hour):
    angle = 2.0 * math.pi * hour / 24.0
    return [math.sin(angle), math.cos(angle)]


REFERENCE_VECTORS = [
    {
        "name": "normal: transfer to a known recipient, usual amount, 15:00 UTC, one request in the last minute",
        "label": "normal",
        "features": [0.3, 0.0, math.log(2.0)] + hour_features(15) + [0.1, 0.0, 0.0, 0.0],
    },
    {
        "name": "normal: first payment to a new recipient, usual amount, 10:00 UTC",
        "label": "normal",
        "features": [-0.5, 1.0, 0.0] + hour_features(10) + [0.0, 0.0, 0.0, 0.0],
    },
    {
        "name": "normal: contract call (unknown calldata) to a known router, 14:00 UTC",
        "label": "normal",
        "features": [0.0, 0.0, math.log(3.0)] + hour_features(14) + [0.2, 0.0, 0.0, 1.0],
    },
    {
        "name": "anomalous: unlimited approval to a new spender with a 2^12 amount spike, 60 requests in the last minute, 03:00 UTC",
        "label": "anomalous",
        "features": [12.0, 1.0, math.log(61.0)] + hour_features(3) + [0.0, 1.0, 1.0, 0.0],
    },
    {
        "name": "anomalous: unlimited approval to a new spender (permit, no fee), 11:00 UTC",
        "label": "anomalous",
        "features": [0.0, 1.0, 0.0] + hour_features(11) + [0.0, 1.0, 1.0, 0.0],
    },
    {
        "name": "anomalous: transfer 2^16 times the key's usual amount to a new recipient",
        "label": "anomalous",
        "features": [16.0, 1.0, 0.0] + hour_features(16) + [0.0, 0.0, 0.0, 0.0],
    },
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models"))
    args = parser.parse_args()
    out_dir = os.path.abspath(args.out_dir)

    rng = np.random.default_rng(SEED)
    x, y, kinds, keys = generate(rng)
    held_out_keys = rng.permutation(KEYS)[: KEYS // 5]
    test = np.isin(keys, held_out_keys)
    train_mask = ~test

    w1, b1, w2, b2, mean, std = train(rng, x[train_mask], y[train_mask])
    model_bytes = export(w1, b1, w2, b2)
    sha = hashlib.sha256(model_bytes).hexdigest()

    # Evaluate the exported (f32) model, as shipped.
    evaluator = ReferenceEvaluator(onnx.load_from_string(model_bytes))
    def score(rows):
        return evaluator.run(None, {"features": np.asarray(rows, dtype=np.float32)})[0][:, 0].astype(np.float64)
    test_scores = score(x[test])
    train_scores = score(x[train_mask])
    # The exported model computes what was trained (numpy f64 forward pass).
    ref = sigmoid(np.tanh(x[test] @ w1 + b1) @ w2 + b2)[:, 0]
    assert np.max(np.abs(ref - test_scores)) < 1e-4, "exported model differs from the trained one"

    references = []
    for v in REFERENCE_VECTORS:
        p = float(score([v["features"]])[0])
        references.append({
            "name": v["name"],
            "label": v["label"],
            "features": [float(np.float32(f)) for f in v["features"]],
            "probability": round(p, 6),
            "score_bps": int(round(p * 10000.0)),
        })

    counts = {kind: int((kinds == kind).sum()) for kind in ["normal", *ANOMALY_TYPES]}
    card = {
        "name": "risk-v1",
        "file": "models/risk-v1.onnx",
        "sha256": sha,
        "bytes": len(model_bytes),
        "purpose": "Scores a decoded signing request (transactions, typed data) for the risk_score rule: probability "
        "that the request is anomalous for its key, 0..1, mapped to 0..10000 bps by the enclave.",
        "input": {"name": "features", "type": "float32", "shape": ["N", len(FEATURE_NAMES)],
                  "enclave_shape": [1, len(FEATURE_NAMES)]},
        "output": {"name": "risk", "type": "float32", "shape": ["N", 1]},
        "features": [{"index": i, "name": n, "definition": FEATURE_DEFINITIONS[n]} for i, n in enumerate(FEATURE_NAMES)],
        "feature_constants": {"clamp": [-FEATURE_LIMIT, FEATURE_LIMIT], "ewma_alpha": EWMA_ALPHA,
                              "max_counterparties": MAX_COUNTERPARTIES, "velocity_buckets_s": VELOCITY_BUCKETS},
        "architecture": "MLP 9 -> 16 (tanh) -> 1 (sigmoid); ONNX opset 13, IR 7: Gemm, Tanh, Gemm, Sigmoid; "
        "feature standardisation folded into the first Gemm",
        "training": {
            "script": "scripts/risk-model/train.py (run: bash scripts/risk-model/train.sh)",
            "seed": SEED,
            "optimizer": "mini-batch gradient descent with momentum on mean binary cross-entropy (numpy, float64)",
            "epochs": EPOCHS, "batch": BATCH, "learning_rate": LEARNING_RATE, "schedule": "cosine decay",
            "momentum": MOMENTUM, "l2": L2, "hidden": HIDDEN,
            "standardisation": {"mean": [round(float(m), 6) for m in mean], "std": [round(float(s), 6) for s in std]},
        },
        "data": {
            "kind": "synthetic (no real user data); generator in scripts/risk-model/train.py, described in "
            "scripts/risk-model/README.md",
            "keys": KEYS,
            "requests_per_key": REQUESTS_PER_KEY,
            "warmup_requests_without_anomalies": WARMUP,
            "anomaly_rate_after_warmup": ANOMALY_RATE,
            "anomaly_type_weights": ANOMALY_TYPES,
            "samples_by_kind": counts,
            "split": "by key: 20% of the keys (seeded permutation) held out, never seen in training",
            "train_samples": int(train_mask.sum()),
            "held_out_samples": int(test.sum()),
        },
        "metrics": {
            "held_out": metrics(test_scores, y[test], kinds[test]),
            "train": metrics(train_scores, y[train_mask], kinds[train_mask]),
            "thresholds": "a request is flagged when score >= threshold (the risk_score rule's approve_at_bps = 6000, "
            "deny_at_bps = 8500)",
        },
        "reference_vectors": references,
        "limitations": [
            "Trained on synthetic data only: it encodes the generator's idea of normal and anomalous, not observed fraud.",
            "Amounts of different assets share one EWMA per key (as the features define): a key that moves both "
            "wei-denominated and 6-decimal tokens sees large amount ratios; scope risk rules per key/asset use.",
            "No baseline before a key's first allowed request with an amount (amount_log_ratio = 0) or fee "
            "(fee_log_ratio = 0): a fresh key's first requests are judged on the other features.",
            "History lives in enclave memory: a restart forgets it (every counterparty is new again).",
        ],
        "packages": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "onnx": onnx.__version__,
            "protobuf": google.protobuf.__version__,
        },
    }

    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "risk-v1.onnx"), "wb") as f:
        f.write(model_bytes)
    with open(os.path.join(out_dir, "risk-v1.json"), "w", encoding="utf-8") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    held = card["metrics"]["held_out"]
    print(json.dumps({
        "sha256": sha,
        "bytes": len(model_bytes),
        "held_out_auc": held["auc"],
        "held_out_accuracy_at_0.5": held["accuracy_at_0.5"],
        "at_6000_bps": {k: held["at_6000_bps"][k] for k in ("precision", "recall")},
        "at_8500_bps": {k: held["at_8500_bps"][k] for k in ("precision", "recall")},
        "references_bps": [r["score_bps"] for r in references],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
