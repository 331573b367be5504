/* lstm1997.c: an independent implementation of the 1997 LSTM (Hochreiter &
 * Schmidhuber, "Long Short-Term Memory") with its truncated RTRL rule, written
 * from ../../../Notes/papers/hochreiter1997.md alone, to cross-check
 * GateLab's Exp. 1 (embedded Reber grammar) and Exp. 4 (adding problem).
 *
 * Build:  cc -O2 -o lstm1997 lstm1997.c -lm
 * Run:    ./lstm1997 gradcheck
 *         ./lstm1997 exp1 ROW [DATASETS INITS BUDGET CHECKEVERY]   (ROW = 1..5)
 *         ./lstm1997 exp4 T [TRIALS BUDGET]
 * Reading switches (for comparing with other readings) are environment
 * variables, documented in README.md; with none set, the readings of README.md
 * apply.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ RNG */
typedef struct { uint64_t s[4]; } Rng;
static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static void rng_seed(Rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}
static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static uint64_t rng_next(Rng *r) { /* xoshiro256** */
    uint64_t *s = r->s;
    uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45);
    return res;
}
static double rng_unit(Rng *r) { return (rng_next(r) >> 11) * (1.0 / 9007199254740992.0); } /* [0,1) */
static double rng_uniform(Rng *r, double a, double b) { return a + (b - a) * rng_unit(r); }
static int rng_int(Rng *r, int n) { return (int)(rng_unit(r) * n); } /* 0..n-1 */

/* ------------------------------------------------------------ readings */
static int opt_env(const char *name, int def) {
    const char *v = getenv(name);
    return v ? atoi(v) : def;
}
/* ERRW_AFTER=1: Σ_k w_kc e_k uses the output weights after this step's output-weight update. */
static int ERRW_AFTER;
/* ALPHA_PCT: learning rate in percent of the paper's (200 = keeping the factor 2 of dE/dw). */
static double ALPHA_MULT = 1.0;
/* NO_FPRIME_OUT=1: output error e_k = t_k − y_k (no f'(net_k); cross-entropy-like). */
static int NO_FPRIME_OUT;
/* EXP1_SEQEND=1: in Exp. 1, sum the step contributions and apply them at the string end. */
static int EXP1_SEQEND;
/* EXP1_TARGET_ALL=1: in Exp. 1, the target is 1 on every legal successor (not only the actual one). */
static int EXP1_TARGET_ALL;
/* EXP1_REPLACE=1: draw each training string at random with replacement (not shuffled epochs). */
static int EXP1_REPLACE;
/* EXP1_DISTINCT=1: the 256 training strings are distinct (and so are the 256 test strings). */
static int EXP1_DISTINCT;
/* EXP1_IGB_NEG=1: Exp. 1 input-gate biases −1, −2, −3(, −4) like the output gates' (not Table 10's "r"). */
static int EXP1_IGB_NEG;

/* ------------------------------------------------------------- network */
static double f(double x) { return 1.0 / (1.0 + exp(-x)); }

typedef struct {
    int nin, C, S, nout, ncell, nsrc;
    int cellBias, outBias; /* gates are always biased in Exps. 1 and 4 */
    /* weights: rows read the source vector src = [1, x(t), yc(t-1), yin(t-1), yout(t-1)] */
    double *Win, *Wout, *Wc; /* C*nsrc, C*nsrc, ncell*nsrc */
    double *Wk;              /* nout*(ncell+1); column 0 = bias, then the cells */
    /* state */
    double *s, *yc, *yin, *yout;         /* current */
    double *ycp, *yinp, *youtp;          /* previous step */
    double *src;                         /* source vector of the current step */
    double *netin, *netout, *netc, *gc;  /* per block / per cell */
    double *Tin, *Tc;                    /* traces: ncell*nsrc each */
    double *netk, *yk, *ycout;           /* outputs and the cell vector they read */
    /* accumulated descent direction −∂E/∂w (truncated) since the last update */
    double *dWin, *dWout, *dWc, *dWk;
    double *ek, *es, *eout;              /* scratch */
} Net;

static double *zalloc(int n) { double *p = calloc((size_t)n, sizeof(double)); if (!p) { perror("calloc"); exit(1); } return p; }

static Net *net_new(int nin, int C, int S, int nout, int cellBias, int outBias) {
    Net *n = calloc(1, sizeof(Net));
    n->nin = nin; n->C = C; n->S = S; n->nout = nout; n->ncell = C * S;
    n->nsrc = nin + n->ncell + 2 * C + 1;
    n->cellBias = cellBias; n->outBias = outBias;
    n->Win = zalloc(C * n->nsrc); n->Wout = zalloc(C * n->nsrc); n->Wc = zalloc(n->ncell * n->nsrc);
    n->Wk = zalloc(nout * (n->ncell + 1));
    n->s = zalloc(n->ncell); n->yc = zalloc(n->ncell); n->yin = zalloc(C); n->yout = zalloc(C);
    n->ycp = zalloc(n->ncell); n->yinp = zalloc(C); n->youtp = zalloc(C);
    n->src = zalloc(n->nsrc);
    n->netin = zalloc(C); n->netout = zalloc(C); n->netc = zalloc(n->ncell); n->gc = zalloc(n->ncell);
    n->Tin = zalloc(n->ncell * n->nsrc); n->Tc = zalloc(n->ncell * n->nsrc);
    n->netk = zalloc(nout); n->yk = zalloc(nout); n->ycout = zalloc(n->ncell);
    n->dWin = zalloc(C * n->nsrc); n->dWout = zalloc(C * n->nsrc); n->dWc = zalloc(n->ncell * n->nsrc);
    n->dWk = zalloc(nout * (n->ncell + 1));
    n->ek = zalloc(nout); n->es = zalloc(n->ncell); n->eout = zalloc(C);
    return n;
}

static int net_weight_count(const Net *n) {
    int perGate = n->nsrc;                         /* gates biased */
    int perCell = n->nsrc - (n->cellBias ? 0 : 1);
    int perOut = n->ncell + (n->outBias ? 1 : 0);
    return 2 * n->C * perGate + n->ncell * perCell + n->nout * perOut;
}

/* all weights uniform in [-r, r]; then per-block gate biases (NAN = keep random) */
static void net_init(Net *n, Rng *r, double range, const double *igb, const double *ogb) {
    int B = 0;
    for (int i = 0; i < n->C * n->nsrc; i++) n->Win[i] = rng_uniform(r, -range, range);
    for (int i = 0; i < n->C * n->nsrc; i++) n->Wout[i] = rng_uniform(r, -range, range);
    for (int i = 0; i < n->ncell * n->nsrc; i++) n->Wc[i] = rng_uniform(r, -range, range);
    for (int i = 0; i < n->nout * (n->ncell + 1); i++) n->Wk[i] = rng_uniform(r, -range, range);
    if (!n->cellBias) for (int c = 0; c < n->ncell; c++) n->Wc[c * n->nsrc + B] = 0;
    if (!n->outBias) for (int k = 0; k < n->nout; k++) n->Wk[k * (n->ncell + 1)] = 0;
    for (int j = 0; j < n->C; j++) {
        if (igb && !isnan(igb[j])) n->Win[j * n->nsrc + B] = igb[j];
        if (ogb && !isnan(ogb[j])) n->Wout[j * n->nsrc + B] = ogb[j];
    }
}

/* reset activations, states and traces (start of every sequence) */
static void net_reset(Net *n) {
    memset(n->s, 0, sizeof(double) * n->ncell);
    memset(n->yc, 0, sizeof(double) * n->ncell);
    memset(n->ycp, 0, sizeof(double) * n->ncell);
    memset(n->yin, 0, sizeof(double) * n->C); memset(n->yinp, 0, sizeof(double) * n->C);
    memset(n->yout, 0, sizeof(double) * n->C); memset(n->youtp, 0, sizeof(double) * n->C);
    memset(n->Tin, 0, sizeof(double) * n->ncell * n->nsrc);
    memset(n->Tc, 0, sizeof(double) * n->ncell * n->nsrc);
}

static void net_zero_dw(Net *n) {
    memset(n->dWin, 0, sizeof(double) * n->C * n->nsrc);
    memset(n->dWout, 0, sizeof(double) * n->C * n->nsrc);
    memset(n->dWc, 0, sizeof(double) * n->ncell * n->nsrc);
    memset(n->dWk, 0, sizeof(double) * n->nout * (n->ncell + 1));
}

static void net_apply_dw(Net *n, double alpha) {
    for (int i = 0; i < n->ncell * n->nsrc; i++) n->Wc[i] += alpha * n->dWc[i];
    for (int i = 0; i < n->C * n->nsrc; i++) n->Win[i] += alpha * n->dWin[i];
    for (int i = 0; i < n->C * n->nsrc; i++) n->Wout[i] += alpha * n->dWout[i];
    for (int i = 0; i < n->nout * (n->ncell + 1); i++) n->Wk[i] += alpha * n->dWk[i];
    net_zero_dw(n);
}

static inline double dot(const double *a, const double *b, int n) {
    double s = 0; for (int i = 0; i < n; i++) s += a[i] * b[i]; return s;
}

/* One time step. x: the input. srcOverride (may be NULL): the recurrent part of
 * the source vector to use instead of the net's own previous activations (for
 * the frozen-source finite-difference check). wantTraces: update traces.
 * computeOut: compute the output units. */
static void net_forward(Net *n, const double *x, const double *srcOverride, int wantTraces, int computeOut) {
    int nin = n->nin, C = n->C, S = n->S, ncell = n->ncell, nsrc = n->nsrc;
    double *src = n->src;
    src[0] = 1.0;
    memcpy(src + 1, x, sizeof(double) * nin);
    if (srcOverride) {
        memcpy(src + 1 + nin, srcOverride + 1 + nin, sizeof(double) * (nsrc - 1 - nin));
    } else {
        memcpy(src + 1 + nin, n->ycp, sizeof(double) * ncell);
        memcpy(src + 1 + nin + ncell, n->yinp, sizeof(double) * C);
        memcpy(src + 1 + nin + ncell + C, n->youtp, sizeof(double) * C);
    }
    for (int j = 0; j < C; j++) {
        n->netin[j] = dot(n->Win + j * nsrc, src, nsrc);
        n->netout[j] = dot(n->Wout + j * nsrc, src, nsrc);
        n->yin[j] = f(n->netin[j]);
        n->yout[j] = f(n->netout[j]);
    }
    for (int j = 0; j < C; j++) {
        double fin = n->yin[j] * (1 - n->yin[j]);
        for (int v = 0; v < S; v++) {
            int c = j * S + v;
            double net = dot(n->Wc + c * nsrc, src, nsrc);
            double fc = f(net);
            double g = 4 * fc - 2, gp = 4 * fc * (1 - fc);
            n->netc[c] = net; n->gc[c] = g;
            n->s[c] += n->yin[j] * g;
            double hs = 2 * f(n->s[c]) - 1;
            n->yc[c] = n->yout[j] * hs;
            if (wantTraces) {
                double a = g * fin, b = gp * n->yin[j];
                double *ti = n->Tin + c * nsrc, *tc = n->Tc + c * nsrc;
                for (int m = 0; m < nsrc; m++) { ti[m] += a * src[m]; tc[m] += b * src[m]; }
            }
        }
    }
    memcpy(n->ycout, n->yc, sizeof(double) * ncell);
    if (computeOut) {
        for (int k = 0; k < n->nout; k++) {
            const double *w = n->Wk + k * (ncell + 1);
            double net = n->outBias ? w[0] : 0;
            for (int c = 0; c < ncell; c++) net += w[1 + c] * n->ycout[c];
            n->netk[k] = net; n->yk[k] = f(net);
        }
    }
    /* shift */
    memcpy(n->ycp, n->yc, sizeof(double) * ncell);
    memcpy(n->yinp, n->yin, sizeof(double) * C);
    memcpy(n->youtp, n->yout, sizeof(double) * C);
}

/* Error at this step for target t (called right after net_forward with computeOut).
 * Adds the truncated RTRL descent direction (eqs. 16–28, factor 2 dropped) to dW*;
 * alpha is used only by the ERRW_AFTER reading. Returns ½Σ(t−y)². */
static double net_backward(Net *n, const double *t, double alpha) {
    int C = n->C, S = n->S, ncell = n->ncell, nsrc = n->nsrc, nout = n->nout;
    double E = 0;
    for (int k = 0; k < nout; k++) {
        double y = n->yk[k], d = t[k] - y;
        E += 0.5 * d * d;
        n->ek[k] = NO_FPRIME_OUT ? d : y * (1 - y) * d;
    }
    /* output weights: Δw_kc = α e_k y^c (the cell output the unit actually read) */
    for (int k = 0; k < nout; k++) {
        double *dw = n->dWk + k * (ncell + 1);
        if (n->outBias) dw[0] += n->ek[k];
        for (int c = 0; c < ncell; c++) dw[1 + c] += n->ek[k] * n->ycout[c];
    }
    /* Σ_k w_kc e_k with the weights before (default) or after this step's output update */
    for (int c = 0; c < ncell; c++) {
        double back = 0;
        for (int k = 0; k < nout; k++) {
            double w = n->Wk[k * (ncell + 1) + 1 + c];
            if (ERRW_AFTER) w += alpha * n->dWk[k * (ncell + 1) + 1 + c];
            back += w * n->ek[k];
        }
        n->es[c] = back; /* Σ_k w_kc e_k for now */
    }
    for (int j = 0; j < C; j++) {
        double yo = n->yout[j], acc = 0;
        for (int v = 0; v < S; v++) {
            int c = j * S + v;
            double fs = f(n->s[c]);
            double hs = 2 * fs - 1, hp = 2 * fs * (1 - fs); /* h(s), h'(s) */
            acc += hs * n->es[c];
            n->es[c] = yo * hp * n->es[c]; /* error at the cell state */
        }
        n->eout[j] = yo * (1 - yo) * acc;
    }
    for (int j = 0; j < C; j++) {
        double *dwo = n->dWout + j * nsrc, *dwi = n->dWin + j * nsrc;
        for (int m = 0; m < nsrc; m++) dwo[m] += n->eout[j] * n->src[m];
        for (int v = 0; v < S; v++) {
            int c = j * S + v;
            const double *ti = n->Tin + c * nsrc, *tc = n->Tc + c * nsrc;
            double *dwc = n->dWc + c * nsrc;
            double e = n->es[c];
            for (int m = 0; m < nsrc; m++) { dwi[m] += e * ti[m]; dwc[m] += e * tc[m]; }
        }
    }
    if (!n->cellBias) for (int c = 0; c < ncell; c++) n->dWc[c * nsrc] = 0;
    return E;
}

/* --------------------------------------------------------- grad check */
/* full-sequence error E = ½ Σ_t Σ_k (t−y)², recomputing everything (optionally with frozen sources) */
static double seq_error(Net *n, int L, const double *X, const double *T, const double *frozenSrc) {
    net_reset(n);
    double E = 0;
    for (int t = 0; t < L; t++) {
        net_forward(n, X + t * n->nin, frozenSrc ? frozenSrc + t * n->nsrc : NULL, 0, 1);
        for (int k = 0; k < n->nout; k++) { double d = T[t * n->nout + k] - n->yk[k]; E += 0.5 * d * d; }
    }
    return E;
}

static double check_one(Net *n, int L, const double *X, const double *T, int frozen, const char *label) {
    int nsrc = n->nsrc;
    double *fsrc = zalloc(L * nsrc);
    /* truncated RTRL gradient, accumulated over the sequence with frozen weights, α = 1 */
    net_reset(n); net_zero_dw(n);
    for (int t = 0; t < L; t++) {
        net_forward(n, X + t * n->nin, NULL, 1, 1);
        memcpy(fsrc + t * nsrc, n->src, sizeof(double) * nsrc);
        net_backward(n, T + t * n->nout, 1.0);
    }
    /* dW = −∂E/∂w; compare with central differences */
    double *groups[4] = {n->Win, n->Wout, n->Wc, n->Wk};
    double *dgroups[4] = {n->dWin, n->dWout, n->dWc, n->dWk};
    int sizes[4] = {n->C * nsrc, n->C * nsrc, n->ncell * nsrc, n->nout * (n->ncell + 1)};
    double *save[4];
    for (int g = 0; g < 4; g++) { save[g] = zalloc(sizes[g]); memcpy(save[g], dgroups[g], sizeof(double) * sizes[g]); }
    double maxabs = 0, maxrel = 0, maxg = 0; int cnt = 0;
    for (int g = 0; g < 4; g++) for (int i = 0; i < sizes[g]; i++) {
        if (g == 2 && !n->cellBias && i % nsrc == 0) continue;
        if (g == 3 && !n->outBias && i % (n->ncell + 1) == 0) continue;
        double w0 = groups[g][i], h = 1e-6;
        groups[g][i] = w0 + h; double Ep = seq_error(n, L, X, T, frozen ? fsrc : NULL);
        groups[g][i] = w0 - h; double Em = seq_error(n, L, X, T, frozen ? fsrc : NULL);
        groups[g][i] = w0;
        double fd = -(Ep - Em) / (2 * h), an = save[g][i];
        double ad = fabs(fd - an), rd = ad / fmax(1e-8, fmax(fabs(fd), fabs(an)));
        if (ad > maxabs) maxabs = ad;
        if (rd > maxrel && fmax(fabs(fd), fabs(an)) > 1e-7) maxrel = rd;
        if (fabs(an) > maxg) maxg = fabs(an);
        cnt++;
    }
    printf("  %-58s %3d weights  max|grad| %.3e  max abs diff %.3e  max rel diff %.3e\n", label, cnt, maxg, maxabs, maxrel);
    for (int g = 0; g < 4; g++) free(save[g]);
    free(fsrc);
    net_zero_dw(n);
    return maxabs;
}

static int gradcheck(void) {
    Rng r; rng_seed(&r, 12345);
    /* tiny net: 3 inputs, 2 blocks × 2 cells, 2 outputs, all biased; targets at every step */
    Net *n = net_new(3, 2, 2, 2, 1, 1);
    int L = 7;
    double X[7 * 3], T[7 * 2];
    for (int i = 0; i < L * 3; i++) X[i] = rng_uniform(&r, -1, 1);
    for (int i = 0; i < L * 2; i++) T[i] = rng_unit(&r);
    printf("gradient check: 3 inputs, 2 blocks x 2 cells, 2 outputs, L = 7, targets every step\n");
    double worst = 0, w;
    /* (a) recurrent weights into gates/cells zero: truncated gradient = full gradient */
    double igb[2] = {-1, -2}, ogb[2] = {-0.5, -1.5};
    net_init(n, &r, 0.5, igb, ogb);
    for (int row = 0; row < 2 * n->C + n->ncell; row++) {
        double *W = row < n->C ? n->Win + row * n->nsrc : row < 2 * n->C ? n->Wout + (row - n->C) * n->nsrc : n->Wc + (row - 2 * n->C) * n->nsrc;
        for (int m = 1 + n->nin; m < n->nsrc; m++) W[m] = 0;
    }
    w = check_one(n, L, X, T, 0, "(a) recurrent weights 0: truncated vs FD of full E"); if (w > worst) worst = w;
    /* (b) general weights: truncated vs FD of E with frozen recurrent sources (the truncation's definition) */
    net_init(n, &r, 0.5, igb, ogb);
    w = check_one(n, L, X, T, 1, "(b) general weights: truncated vs FD of frozen-source E"); if (w > worst) worst = w;
    double gap = check_one(n, L, X, T, 0, "(c) general weights: truncated vs FD of full E (must differ)");
    /* (d) one block of one cell, no cell/out bias (Exp. 1 style) */
    Net *m = net_new(3, 1, 1, 2, 0, 0);
    double igb1[1] = {NAN}, ogb1[1] = {-1};
    net_init(m, &r, 0.5, igb1, ogb1);
    w = check_one(m, L, X, T, 1, "(d) 1 block x 1 cell, gates-only bias, frozen-source"); if (w > worst) worst = w;
    int ok = worst < 1e-8 && gap > 1e-6;
    printf("gradient check %s (worst abs diff %.2e; full-vs-truncated gap %.2e)\n", ok ? "PASSED" : "FAILED", worst, gap);
    return ok ? 0 : 1;
}

/* ------------------------------------------------------ Exp. 1: Reber */
enum { B_, T_, P_, S_, X_, V_, E_, NSYM };
#define MAXLEN 256
typedef struct { int len; int sym[MAXLEN]; int succ[MAXLEN]; } Str;

/* inner Reber graph: node -> two edges (symbol, next); next 0 = end */
static const int REBER_SYM[6][2] = {{0, 0}, {T_, P_}, {S_, X_}, {T_, V_}, {X_, S_}, {P_, V_}};
static const int REBER_NXT[6][2] = {{0, 0}, {2, 3}, {2, 4}, {3, 5}, {3, 0}, {4, 0}};

static void push(Str *s, int sym) { if (s->len >= MAXLEN) { fprintf(stderr, "string too long\n"); exit(1); } s->sym[s->len++] = sym; }
static void gen_embedded(Rng *r, Str *s) {
    s->len = 0;
    push(s, B_); s->succ[s->len - 1] = (1 << T_) | (1 << P_);
    int a = rng_unit(r) < 0.5 ? T_ : P_;
    push(s, a); s->succ[s->len - 1] = 1 << B_;
    push(s, B_); s->succ[s->len - 1] = (1 << T_) | (1 << P_);
    int node = 1;
    while (node != 0) {
        int e = rng_unit(r) < 0.5 ? 0 : 1;
        push(s, REBER_SYM[node][e]);
        node = REBER_NXT[node][e];
        s->succ[s->len - 1] = node ? (1 << REBER_SYM[node][0]) | (1 << REBER_SYM[node][1]) : (1 << E_);
    }
    push(s, E_); s->succ[s->len - 1] = 1 << a;
    push(s, a); s->succ[s->len - 1] = 1 << E_;
    push(s, E_); s->succ[s->len - 1] = 0;
}
static int str_eq(const Str *a, const Str *b) { return a->len == b->len && !memcmp(a->sym, b->sym, sizeof(int) * a->len); }

/* present a string; train (per-step updates) or only check. Returns 1 if every step's
 * legal successors are the most active outputs. */
static int run_string(Net *n, const Str *s, double alpha, int train) {
    double x[NSYM], t[NSYM];
    int ok = 1;
    net_reset(n);
    for (int i = 0; i + 1 < s->len; i++) {
        memset(x, 0, sizeof x); x[s->sym[i]] = 1;
        net_forward(n, x, NULL, train, 1);
        if (train) {
            memset(t, 0, sizeof t); t[s->sym[i + 1]] = 1;
            if (EXP1_TARGET_ALL) for (int k = 0; k < NSYM; k++) if (s->succ[i] >> k & 1) t[k] = 1;
            net_backward(n, t, alpha);
            if (!EXP1_SEQEND) net_apply_dw(n, alpha);
        } else {
            double minLegal = 1e9, maxIllegal = -1e9;
            for (int k = 0; k < NSYM; k++) {
                if (s->succ[i] >> k & 1) { if (n->yk[k] < minLegal) minLegal = n->yk[k]; }
                else if (n->yk[k] > maxIllegal) maxIllegal = n->yk[k];
            }
            if (!(minLegal > maxIllegal)) { ok = 0; break; }
        }
    }
    if (train && EXP1_SEQEND) net_apply_dw(n, alpha);
    return ok;
}

typedef struct { int solved; long seqs; } Result;

static void stats(const char *label, Result *res, int n) {
    int ns = 0; double sum = 0; long mn = -1, mx = -1;
    long *v = malloc(sizeof(long) * n);
    for (int i = 0; i < n; i++) if (res[i].solved) {
        v[ns++] = res[i].seqs; sum += res[i].seqs;
        if (mn < 0 || res[i].seqs < mn) mn = res[i].seqs;
        if (res[i].seqs > mx) mx = res[i].seqs;
    }
    for (int i = 0; i < ns; i++) for (int j = i + 1; j < ns; j++) if (v[j] < v[i]) { long t = v[i]; v[i] = v[j]; v[j] = t; }
    double med = ns == 0 ? 0 : ns % 2 ? v[ns / 2] : 0.5 * (v[ns / 2 - 1] + v[ns / 2]);
    printf("%s: solved %d of %d", label, ns, n);
    if (ns) printf("; sequences of solved trials: mean %.0f, median %.0f, min %ld, max %ld", sum / ns, med, mn, mx);
    printf("\n");
    free(v);
}

static int exp1(int row, int ndata, int ninit, long budget, int every) {
    static const int C_[6] = {0, 4, 3, 3, 4, 3}, S_s[6] = {0, 1, 2, 2, 1, 2};
    static const double A_[6] = {0, 0.1, 0.1, 0.2, 0.5, 0.5};
    if (row < 1 || row > 5) { fprintf(stderr, "exp1: row must be 1..5\n"); return 2; }
    int C = C_[row], S = S_s[row]; double alpha = A_[row] * ALPHA_MULT;
    double ogb[4] = {-1, -2, -3, -4}, igb[4] = {NAN, NAN, NAN, NAN};
    if (EXP1_IGB_NEG) for (int j = 0; j < 4; j++) igb[j] = ogb[j];
    double range = opt_env("EXP1_RANGE_PERMILLE", 200) / 1000.0;
    { Net *n = net_new(NSYM, C, S, NSYM, 0, 0);
      printf("Exp. 1 row 1-%d: %d blocks x %d cells, alpha %.2f, %d weights, init +-%.3f, budget %ld, check every %d sequences\n",
             row, C, S, alpha, net_weight_count(n), range, budget, every); }
    Result *res = calloc(ndata * ninit, sizeof(Result));
    Str *train = malloc(sizeof(Str) * 256), *test = malloc(sizeof(Str) * 256);
    for (int d = 0; d < ndata; d++) {
        Rng dr; rng_seed(&dr, 1000 + d);
        for (int i = 0; i < 256; i++) {
            int clash;
            do { gen_embedded(&dr, &train[i]); clash = 0; for (int j = 0; EXP1_DISTINCT && j < i && !clash; j++) clash = str_eq(&train[i], &train[j]); } while (clash);
        }
        for (int i = 0; i < 256; i++) {
            int clash;
            do {
                gen_embedded(&dr, &test[i]); clash = 0;
                for (int j = 0; j < 256 && !clash; j++) clash = str_eq(&test[i], &train[j]);
                for (int j = 0; EXP1_DISTINCT && j < i && !clash; j++) clash = str_eq(&test[i], &test[j]);
            } while (clash);
        }
        { int distinct = 0; double meanLen = 0;
          for (int i = 0; i < 256; i++) { int dup = 0; for (int j = 0; j < i && !dup; j++) dup = str_eq(&train[i], &train[j]); distinct += !dup; meanLen += train[i].len; }
          double meanTest = 0; for (int i = 0; i < 256; i++) meanTest += test[i].len;
          printf("  data set %d: %d distinct training strings, mean length %.2f (test %.2f)\n", d, distinct, meanLen / 256, meanTest / 256); }
        for (int k = 0; k < ninit; k++) {
            Rng ir; rng_seed(&ir, 2000 + 100 * d + k);
            Rng orr; rng_seed(&orr, 3000 + 100 * d + k);
            Net *n = net_new(NSYM, C, S, NSYM, 0, 0);
            net_init(n, &ir, range, igb, ogb);
            int perm[256]; long seqs = 0; int solved = 0;
            while (seqs < budget && !solved) {
                for (int i = 0; i < 256; i++) perm[i] = i;
                for (int i = 255; i > 0; i--) { int j = rng_int(&orr, i + 1); int t = perm[i]; perm[i] = perm[j]; perm[j] = t; }
                for (int i = 0; i < 256 && seqs < budget; i++) {
                    run_string(n, &train[EXP1_REPLACE ? rng_int(&orr, 256) : perm[i]], alpha, 1);
                    seqs++;
                    if (seqs % every == 0) {
                        int ok = 1;
                        for (int q = 0; q < 256 && ok; q++) ok = run_string(n, &train[q], 0, 0);
                        for (int q = 0; q < 256 && ok; q++) ok = run_string(n, &test[q], 0, 0);
                        if (ok) { solved = 1; break; }
                    }
                }
            }
            res[d * ninit + k].solved = solved; res[d * ninit + k].seqs = seqs;
            int wrongTrain = 0, wrongTest = 0;
            for (int q = 0; q < 256; q++) { wrongTrain += !run_string(n, &train[q], 0, 0); wrongTest += !run_string(n, &test[q], 0, 0); }
            double maxS = 0; /* largest |s| over the test strings' steps */
            for (int q = 0; q < 256; q++) {
                double x[NSYM]; net_reset(n);
                for (int i = 0; i + 1 < test[q].len; i++) {
                    memset(x, 0, sizeof x); x[test[q].sym[i]] = 1; net_forward(n, x, NULL, 0, 0);
                    for (int c = 0; c < n->ncell; c++) if (fabs(n->s[c]) > maxS) maxS = fabs(n->s[c]);
                }
            }
            printf("  data %d init %d: %s after %ld sequences; wrong strings: %d of 256 training, %d of 256 test; max |s| on test %.1f\n",
                   d, k, solved ? "SOLVED" : "not solved", seqs, wrongTrain, wrongTest, maxS);
            fflush(stdout);
        }
    }
    char label[64]; snprintf(label, sizeof label, "Exp. 1 row 1-%d", row);
    stats(label, res, ndata * ninit);
    return 0;
}

/* ---------------------------------------------------- Exp. 4: adding */
static int gen_adding(Rng *r, int T, double *X, double *target) {
    int L = T + rng_int(r, T / 10 + 1); /* uniform in T..T+T/10 */
    for (int t = 0; t < L; t++) { X[2 * t] = rng_uniform(r, -1, 1); X[2 * t + 1] = 0; }
    X[1] = -1; X[2 * (L - 1) + 1] = -1;
    int i1 = rng_int(r, 10);
    int i2; do { i2 = rng_int(r, T / 2); } while (i2 == i1);
    X[2 * i1 + 1] = 1; X[2 * i2 + 1] = 1;
    if (i1 == 0) X[0] = 0; /* X1 set to 0; its marker stays 1 */
    if (i2 == 0) X[0] = 0; /* (i2 == 0 likewise: "the first pair" marked) */
    *target = 0.5 + (X[2 * i1] + X[2 * i2]) / 4.0;
    return L;
}

static double run_adding(Net *n, int L, const double *X, double target, double alpha, int train) {
    net_reset(n);
    for (int t = 0; t < L; t++) net_forward(n, X + 2 * t, NULL, train, t == L - 1);
    double err = target - n->yk[0];
    if (train) { net_backward(n, &target, alpha); net_apply_dw(n, alpha); }
    return err;
}

static int exp4(int T, int ntrials, long budget) {
    double igb[2] = {-3, -6}, ogb[2] = {NAN, NAN};
    double alpha = 0.5 * ALPHA_MULT;
    double range = opt_env("EXP4_RANGE_PERMILLE", 100) / 1000.0;
    int window = 2000;
    int avgAbs = opt_env("ST3_ABS", 0);
    { Net *n = net_new(2, 2, 2, 1, 1, 1);
      printf("Exp. 4 T=%d: 2 blocks x 2 cells, alpha %.2f, %d weights, budget %ld, ST3(0.01) over the last %d (average %s)\n",
             T, alpha, net_weight_count(n), budget, window, avgAbs ? "absolute error" : "squared error"); }
    Result *res = calloc(ntrials, sizeof(Result));
    double *X = zalloc(2 * (T + T / 10 + 1));
    double *ring = zalloc(window);
    double wrongSum = 0; int nWrong = 0;
    for (int k = 0; k < ntrials; k++) {
        Rng ir, dr, tr; rng_seed(&ir, 4000 + k); rng_seed(&dr, 5000 + k); rng_seed(&tr, 6000 + k);
        Net *n = net_new(2, 2, 2, 1, 1, 1);
        net_init(n, &ir, range, igb, ogb);
        long seqs = 0; int solved = 0, bad = 0; double sum = 0;
        for (int i = 0; i < window; i++) ring[i] = -1;
        while (seqs < budget) {
            double target; int L = gen_adding(&dr, T, X, &target);
            double err = run_adding(n, L, X, target, alpha, 1);
            int slot = seqs % window;
            if (ring[slot] >= 0) { if (ring[slot] >= 0.04) bad--; sum -= avgAbs ? ring[slot] : ring[slot] * ring[slot]; }
            double ae = fabs(err);
            ring[slot] = ae; if (ae >= 0.04) bad++; sum += avgAbs ? ae : ae * ae;
            seqs++;
            if (seqs >= window && bad == 0 && sum / window < 0.01) { solved = 1; break; }
            if (seqs % 100000 == 0) { sum = 0; for (int i = 0; i < window; i++) sum += avgAbs ? ring[i] : ring[i] * ring[i]; } /* refresh the running sum */
        }
        int wrong = 0; double mse = 0;
        for (int i = 0; i < 2560; i++) {
            double target; int L = gen_adding(&tr, T, X, &target);
            double err = run_adding(n, L, X, target, 0, 0);
            if (fabs(err) > 0.04) wrong++;
            mse += err * err;
        }
        res[k].solved = solved; res[k].seqs = seqs;
        if (solved) { wrongSum += wrong; nWrong++; }
        printf("  trial %d: %s after %ld sequences; test: %d wrong of 2560, MSE %.2e\n", k, solved ? "ST3 met" : "budget reached", seqs, wrong, mse / 2560);
        fflush(stdout);
    }
    char label[64]; snprintf(label, sizeof label, "Exp. 4 T=%d", T);
    stats(label, res, ntrials);
    if (nWrong) printf("mean wrong of 2560 over solved trials: %.1f\n", wrongSum / nWrong);
    return 0;
}

#ifdef GATELAB_STREAM
/* ------------------------------------------------ GateLab's random stream
 * Only for the cross-check against GateLab (build with -DGATELAB_STREAM -lgsl
 * -lgslcblas): the same initial weights and the same data as a GateLab trial of
 * the given seed, drawn from GSL's generators in GateLab's order (Trial.swift,
 * Presets.swift, Reber.swift, Tasks.swift, read after this file's own numbers
 * were in). The network and the learning rule are this file's. If the two
 * implementations compute the same thing, the trial stops at GateLab's count. */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

/* GateLab's weight layout: cell rows, input-gate rows, output-gate rows, output rows;
 * each row [bias if any, x, yc, yin, yout] (outputs: [bias if any, yc]). */
static void gl_init(Net *n, gsl_rng *r, double range, const double *igb, const double *ogb) {
    int nsrc = n->nsrc;
    for (int c = 0; c < n->ncell; c++)
        for (int m = n->cellBias ? 0 : 1; m < nsrc; m++) n->Wc[c * nsrc + m] = gsl_ran_flat(r, -range, range);
    for (int j = 0; j < n->C; j++) for (int m = 0; m < nsrc; m++) n->Win[j * nsrc + m] = gsl_ran_flat(r, -range, range);
    for (int j = 0; j < n->C; j++) for (int m = 0; m < nsrc; m++) n->Wout[j * nsrc + m] = gsl_ran_flat(r, -range, range);
    for (int k = 0; k < n->nout; k++)
        for (int m = n->outBias ? 0 : 1; m < n->ncell + 1; m++) n->Wk[k * (n->ncell + 1) + m] = gsl_ran_flat(r, -range, range);
    for (int j = 0; j < n->C; j++) {
        if (igb && !isnan(igb[j])) n->Win[j * nsrc] = igb[j];
        if (ogb && !isnan(ogb[j])) n->Wout[j * nsrc] = ogb[j];
    }
}

static int gl_int(gsl_rng *r, int n) { return (int)gsl_rng_uniform_int(r, (unsigned long)n); }

static void gl_reber(gsl_rng *r, Str *s) {
    /* Reber.embeddedString: branch, then the inner string's edge choices */
    int a = gl_int(r, 2) == 0 ? T_ : P_;
    s->len = 0;
    push(s, B_); s->succ[0] = (1 << T_) | (1 << P_);
    push(s, a); s->succ[1] = 1 << B_;
    push(s, B_); s->succ[2] = (1 << T_) | (1 << P_);
    int node = 1;
    while (node != 0) {
        int e = gl_int(r, 2);
        push(s, REBER_SYM[node][e]);
        node = REBER_NXT[node][e];
        s->succ[s->len - 1] = node ? (1 << REBER_SYM[node][0]) | (1 << REBER_SYM[node][1]) : (1 << E_);
    }
    push(s, E_); s->succ[s->len - 1] = 1 << a;
    push(s, a); s->succ[s->len - 1] = 1 << E_;
    push(s, E_); s->succ[s->len - 1] = 0;
}

static int exp1_gl(int row, unsigned long seed0, unsigned long seed1) {
    static const int C_[6] = {0, 4, 3, 3, 4, 3}, S_s[6] = {0, 1, 2, 2, 1, 2};
    static const double A_[6] = {0, 0.1, 0.1, 0.2, 0.5, 0.5};
    int C = C_[row], S = S_s[row]; double alpha = A_[row];
    double ogb[4] = {-1, -2, -3, -4}, igb[4] = {NAN, NAN, NAN, NAN};
    Str *train = malloc(sizeof(Str) * 256), *test = malloc(sizeof(Str) * 256);
    printf("Exp. 1 row 1-%d with GateLab's random stream (seeds %lu..%lu)\n", row, seed0, seed1);
    Result *res = calloc(seed1 - seed0 + 1, sizeof(Result));
    for (unsigned long seed = seed0; seed <= seed1; seed++) {
        gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937); gsl_rng_set(r, seed);
        Net *n = net_new(NSYM, C, S, NSYM, 0, 0);
        gl_init(n, r, 0.2, igb, ogb);
        unsigned long pair = 1 + (seed + 3 - 1) % 3;
        gsl_rng *d = gsl_rng_alloc(gsl_rng_ranlxd2); gsl_rng_set(d, pair);
        for (int i = 0; i < 256; i++) gl_reber(d, &train[i]);
        for (int i = 0; i < 256; ) {
            gl_reber(d, &test[i]);
            int clash = 0; for (int j = 0; j < 256 && !clash; j++) clash = str_eq(&test[i], &train[j]);
            if (!clash) i++;
        }
        gsl_rng_free(d);
        long seqs = 0; int solved = 0;
        while (seqs < 100000 && !solved) {
            run_string(n, &train[gl_int(r, 256)], alpha, 1);
            seqs++;
            if (seqs % 256 == 0) {
                int ok = 1;
                for (int q = 0; q < 256 && ok; q++) ok = run_string(n, &train[q], 0, 0);
                for (int q = 0; q < 256 && ok; q++) ok = run_string(n, &test[q], 0, 0);
                solved = ok;
            }
        }
        int wrong = 0; for (int q = 0; q < 256; q++) wrong += !run_string(n, &test[q], 0, 0);
        printf("  seed %lu (pair %lu): %s after %ld sequences, %d of 256 test strings wrong\n", seed, pair, solved ? "SOLVED" : "not solved", seqs, wrong);
        fflush(stdout);
        res[seed - seed0].solved = solved; res[seed - seed0].seqs = seqs;
        gsl_rng_free(r);
    }
    stats("Exp. 1 (GateLab stream)", res, (int)(seed1 - seed0 + 1));
    return 0;
}

static int gl_adding(gsl_rng *r, int T, double *X, double *target) {
    int L = T + gl_int(r, T / 10 + 1);
    for (int t = 0; t < L; t++) { X[2 * t] = gsl_ran_flat(r, -1.0, 1.0); X[2 * t + 1] = 0; }
    X[1] = -1; X[2 * (L - 1) + 1] = -1;
    int first = gl_int(r, 10);
    int second = gl_int(r, T / 2 - 1); if (second >= first) second++;
    X[2 * first + 1] = 1; X[2 * second + 1] = 1;
    if (first == 0 || second == 0) X[0] = 0;
    *target = 0.5 + (X[2 * first] + X[2 * second]) / 4.0;
    return L;
}

static int exp4_gl(int T, unsigned long seed0, unsigned long seed1, long budget) {
    double igb[2] = {-3, -6}, ogb[2] = {NAN, NAN};
    int window = 2000;
    double *X = zalloc(2 * (T + T / 10 + 1)), *ring = zalloc(window);
    printf("Exp. 4 T=%d with GateLab's random stream (seeds %lu..%lu)\n", T, seed0, seed1);
    Result *res = calloc(seed1 - seed0 + 1, sizeof(Result));
    for (unsigned long seed = seed0; seed <= seed1; seed++) {
        gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937); gsl_rng_set(r, seed);
        Net *n = net_new(2, 2, 2, 1, 1, 1);
        gl_init(n, r, 0.1, igb, ogb);
        long seqs = 0; int solved = 0, bad = 0;
        for (int i = 0; i < window; i++) ring[i] = 0;
        while (seqs < budget && !solved) {
            double target; int L = gl_adding(r, T, X, &target);
            double err = run_adding(n, L, X, target, 0.5, 1);
            int slot = seqs % window;
            if (ring[slot] >= 0.04) bad--;
            ring[slot] = fabs(err); if (ring[slot] >= 0.04) bad++;
            seqs++;
            if (seqs >= window && bad == 0) {
                double sum = 0; for (int i = 0; i < window; i++) sum += ring[i] * ring[i];
                solved = sum / window < 0.01;
            }
        }
        int wrong = 0; double mse = 0;
        for (int i = 0; i < 2560; i++) {
            double target; int L = gl_adding(r, T, X, &target);
            double err = run_adding(n, L, X, target, 0, 0);
            wrong += fabs(err) >= 0.04; mse += err * err;
        }
        printf("  seed %lu: %s after %ld sequences; test: %d wrong of 2560, MSE %.17g\n", seed, solved ? "ST3 met" : "budget reached", seqs, wrong, mse / 2560);
        fflush(stdout);
        res[seed - seed0].solved = solved; res[seed - seed0].seqs = seqs;
        gsl_rng_free(r);
    }
    stats("Exp. 4 (GateLab stream)", res, (int)(seed1 - seed0 + 1));
    return 0;
}
#endif

int main(int argc, char **argv) {
    ERRW_AFTER = opt_env("ERRW_AFTER", 0);
    ALPHA_MULT = opt_env("ALPHA_PCT", 100) / 100.0;
    NO_FPRIME_OUT = opt_env("NO_FPRIME_OUT", 0);
    EXP1_SEQEND = opt_env("EXP1_SEQEND", 0);
    EXP1_TARGET_ALL = opt_env("EXP1_TARGET_ALL", 0);
    EXP1_REPLACE = opt_env("EXP1_REPLACE", 0);
    EXP1_DISTINCT = opt_env("EXP1_DISTINCT", 0);
    EXP1_IGB_NEG = opt_env("EXP1_IGB_NEG", 0);
    printf("readings: ERRW_AFTER=%d ALPHA_PCT=%.0f NO_FPRIME_OUT=%d EXP1_SEQEND=%d EXP1_TARGET_ALL=%d EXP1_RANGE_PERMILLE=%d EXP4_RANGE_PERMILLE=%d ST3_ABS=%d EXP1_REPLACE=%d EXP1_DISTINCT=%d EXP1_IGB_NEG=%d\n",
           ERRW_AFTER, ALPHA_MULT * 100, NO_FPRIME_OUT, EXP1_SEQEND, EXP1_TARGET_ALL, opt_env("EXP1_RANGE_PERMILLE", 200),
           opt_env("EXP4_RANGE_PERMILLE", 100), opt_env("ST3_ABS", 0), EXP1_REPLACE, EXP1_DISTINCT, EXP1_IGB_NEG);
    if (argc < 2) { fprintf(stderr, "usage: %s gradcheck | exp1 ROW [DATASETS INITS BUDGET EVERY] | exp4 T [TRIALS BUDGET]\n", argv[0]); return 2; }
    clock_t t0 = clock();
    int rc;
    if (!strcmp(argv[1], "gradcheck")) rc = gradcheck();
    else if (!strcmp(argv[1], "exp1") && argc >= 3)
        rc = exp1(atoi(argv[2]), argc > 3 ? atoi(argv[3]) : 3, argc > 4 ? atoi(argv[4]) : 10, argc > 5 ? atol(argv[5]) : 100000, argc > 6 ? atoi(argv[6]) : 256);
    else if (!strcmp(argv[1], "exp4") && argc >= 3)
        rc = exp4(atoi(argv[2]), argc > 3 ? atoi(argv[3]) : 10, argc > 4 ? atol(argv[4]) : 1000000);
#ifdef GATELAB_STREAM
    else if (!strcmp(argv[1], "exp1gl") && argc >= 5) rc = exp1_gl(atoi(argv[2]), strtoul(argv[3], 0, 10), strtoul(argv[4], 0, 10));
    else if (!strcmp(argv[1], "exp4gl") && argc >= 5)
        rc = exp4_gl(atoi(argv[2]), strtoul(argv[3], 0, 10), strtoul(argv[4], 0, 10), argc > 5 ? atol(argv[5]) : 1000000);
#endif
    else { fprintf(stderr, "%s: unknown command '%s'\n", argv[0], argv[1]); return 2; }
    printf("cpu time %.1f s\n", (double)(clock() - t0) / CLOCKS_PER_SEC);
    return rc;
}
