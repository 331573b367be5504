/// # Reproductions: H&S 1997 and Gers et al. 2000 with their own set-ups
///
/// The tasks, networks, initialisations, learning rule and criteria of Hochreiter & Schmidhuber
/// (1997), Exps. 1, 2c, 3a, 4, 5, 6a, 6b, and of Gers, Schmidhuber & Cummins (2000), the
/// continual embedded Reber grammar (Table 2), as described in `/work/shared/papers/`.
///
/// - Generators: `EmbeddedReberTask`, `ContinualReberStream`, `DistractorTask`, `TwoSequenceTask`,
///   `MarkedPairTask` (adding, multiplication), `TemporalOrderTask`.
/// - Networks: `Architecture` (memory blocks with shared gates; connectivity F; optional forget
///   gates, input→output shortcuts; bias sets) and `Initialisation`.
/// - Learning rule: `TruncatedRTRL` (App. A.1's truncated gradient as forward traces, O(W) per
///   step); `ReferenceBPTT` (a plain reverse pass, full or with y(t−1) held constant).
/// - Trials: `Presets` (one table), `Trial` (criteria, budgets, tests, checkpoints), `TrialRecord`.
///
/// ## Readings where the papers are silent ([interp] / [D] in the papers files)
///
/// Each is also stated at the code that makes it.
/// - Timing: gates and cells read x(t) and y(t−1); outputs read the same step's cells (§5's
///   three phases). A bias is a weight from a unit held at 1.0.
/// - Traces are zero at each sequence start; y^m(t−1) in a trace is the activation that entered
///   the net input (input, previous gate or cell). Weights change after each step that has a
///   target: every step in Exp. 1 and CERG, once at the end elsewhere.
/// - `weightUpdate = .sequenceEnd` offers the other reading (one update per string) for Exp. 1;
///   presets keep the per-step reading.
/// - Full-gradient option: full BPTT over the sequence, one update at its end (also in Exp. 1);
///   not offered for CERG's unbounded stream.
/// - Initialisation: uniform; all W weights drawn in layout order, then the fixed gate biases
///   overwrite their slots. Random gate biases use the experiment's interval (±0.2 in Exp. 1,
///   not Table 10's ±0.1 [check 3]). Exp. 1's 4-block net uses output-gate biases −1…−4.
/// - Exp. 1: one-hot target of the actual next symbol; L − 1 steps per string (no step for the
///   final E); success = the n legal successors are the n largest outputs at every step of every
///   training and test string; checked every 256 training sequences; training strings drawn
///   uniformly from the fixed set (t1); duplicates within a set allowed; budget 100 000.
/// - Exp. 2c: class x/y with probability 0.5; outputs x → (1, 0), y → (0, 1); the 10 000
///   successive correct sequences are a running window over training; final test on 10 000.
/// - Exp. 3a: lengths uniform integers in T…T + T/10; noise N(0, variance 0.2); ST1/ST2 on one
///   fixed random 256-set drawn at the trial start, checked every 256 training sequences.
/// - Exp. 4/5: values uniform; the second marker among positions 1…T/2 other than the first's;
///   a marked first pair keeps marker 1.0 and has its value set to 0 (Exp. 4) or 1.0 (Exp. 5) —
///   whichever of the two markers it is.
/// - ST3: "average training error" = mean over the 2000 most recent training sequences of the
///   paper's E = Σ_k (t_k − y_k)² at the sequence end (the same window as the 2000 correct ones).
/// - Exp. 5: one run gives both tests (n_seq < 140, then n_seq < 13), each on 2560 fresh sequences.
/// - Exp. 6: lengths uniform in 100…110; positions uniform; X/Y with probability 0.5.
/// - test_mse: mean over test sequences, target steps and output units of (t − y)².
/// - CERG: targets mark every legal next symbol (multi-hot); correct = every output's absolute
///   error < 0.49; streams of ≤ 10⁵ symbols (training), stopped at the first error after that
///   step's update; activations reset at each stream start; α = 0.5 at each stream start;
///   α-decay multiplies α by 0.99 after every step; 10 fresh test streams of ≤ 10⁵ after every
///   training stream; the no-forget-gate baselines use the same net without forget gates (360
///   weights); external reset zeroes all activations and traces at each string's leading B;
///   state decay 0.9 multiplies s(t−1) and the traces.
/// - Budgets where the papers give none: see `Presets`.
public enum Reproductions {}
