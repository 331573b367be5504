// The texts of the papers' cell files, as the full-gradient controls compile them.
// `Cells/lstm1997.cell` and `Cells/lstm2000.cell` are the copies users read and edit;
// `PaperCellTextTests` checks that they equal these texts byte for byte.

extension Architecture {
    /// The text of `cellFileName` (the cell files in `Cells/`, built in).
    public var cellText: String { forgetGates ? Architecture.lstm2000Text : Architecture.lstm1997Text }

    /// `Cells/lstm1997.cell`.
    static let lstm1997Text = """
        # The LSTM of Hochreiter & Schmidhuber (1997), "Long short-term memory", §4 and App. A.1:
        # memory blocks of S cells sharing one input gate and one output gate, no forget gate.
        #
        #   s_c(t) = s_c(t−1) + y^in_j(t) g(net_c(t))      (the constant error carousel)
        #   y^c(t) = y^out_j(t) h(s_c(t))
        #   g = 4σ − 2 ∈ [−2, 2],  h = 2σ − 1 ∈ [−1, 1]     (scaled logistic functions)
        #
        # Connectivity F of Table 10: cells and gates read the inputs x(t) and the previous
        # activations of all cells (y_c) and all gates (y_in, y_out). The layer's output is the cells'
        # outputs y_c; the paper's output units (logistic, reading the cells only) are not part of
        # the cell. Bias weights on cells and gates (Table 10's "b1"/"all"; sets without them drop
        # b_c, or b_c, b_in and b_out). The per-block gate biases of each experiment are `init`
        # lines; those below are Exp. 1's output-gate biases −1, −2, −3 …
        #
        # g and h are written as expressions of σ (no primitive of their own). Activations start at
        # zero with each sequence, as the initial states do.
        cell lstm1997
        width blocks = H / 2     # memory blocks of S = 2 cells (H = blocks · S cells in all)
        state y_c s              # H-wide: the cells' outputs (the layer's output) and states
        state y_in y_out : blocks  # one per block: the gates' activations, read at the next step

        y_in'  = σ(W_in x + U_in y_c + V_in y_in + R_in y_out + b_in)        # input gate, one per block
        y_out' = σ(W_out x + U_out y_c + V_out y_in + R_out y_out + b_out)   # output gate, one per block
        g  = 4 * σ(W_c x + U_c y_c + V_c y_in + R_c y_out + b_c) - 2        # the cell input squashed to [−2, 2]
        s'   = s + expand(y_in') * g                                         # CEC: each block's gate on its S cells
        y_c' = expand(y_out') * (2 * σ(s') - 1)                              # h(s) ∈ [−1, 1], gated

        init W_in  = uniform(0.2)
        init U_in  = uniform(0.2)
        init V_in  = uniform(0.2)
        init R_in  = uniform(0.2)
        init b_in  = uniform(0.2)
        init W_out = uniform(0.2)
        init U_out = uniform(0.2)
        init V_out = uniform(0.2)
        init R_out = uniform(0.2)
        init b_out = progression(-1, -1)    # −1, −2, −3 … per block
        init W_c   = uniform(0.2)
        init U_c   = uniform(0.2)
        init V_c   = uniform(0.2)
        init R_c   = uniform(0.2)
        init b_c   = uniform(0.2)

        """

    /// `Cells/lstm2000.cell`.
    static let lstm2000Text = """
        # The LSTM of Gers, Schmidhuber & Cummins (2000), "Learning to forget: continual prediction
        # with LSTM", §2 and the CERG network of §4: the 1997 memory blocks (Cells/lstm1997.cell)
        # with a forget gate φ per block multiplying the state's previous value.
        #
        #   s_c(t) = y^φ_j(t) s_c(t−1) + y^in_j(t) g(net_c(t))
        #   y^c(t) = y^out_j(t) h(s_c(t)),   g = 4σ − 2,  h = 2σ − 1
        #
        # As in the CERG net, gates and cells read the inputs and the previous cell outputs only (not
        # the gates), the gates have bias weights and the cells none; the output units (reading the
        # cells and the inputs) are not part of the cell. The gates' activations are values within
        # the step, not states. Initialization of the CERG net: weights in ±0.2, input- and
        # output-gate biases −0.5, −1, −1.5, −2 per block, forget-gate biases +0.5, +1, +1.5, +2.
        cell lstm2000
        width blocks = H / 2     # memory blocks of S = 2 cells
        state y_c s              # the cells' outputs (the layer's output) and states

        y_in  = σ(W_in x + U_in y_c + b_in)       # input gate, one per block
        y_φ   = σ(W_φ x + U_φ y_c + b_φ)          # forget gate, one per block
        y_out = σ(W_out x + U_out y_c + b_out)    # output gate, one per block
        g  = 4 * σ(W_c x + U_c y_c) - 2           # the cell input squashed to [−2, 2]
        s'   = expand(y_φ) * s + expand(y_in) * g # each block's gates on its S cells
        y_c' = expand(y_out) * (2 * σ(s') - 1)    # h(s) ∈ [−1, 1], gated

        init W_in  = uniform(0.2)
        init U_in  = uniform(0.2)
        init b_in  = progression(-0.5, -0.5)
        init W_φ   = uniform(0.2)
        init U_φ   = uniform(0.2)
        init b_φ   = progression(0.5, 0.5)
        init W_out = uniform(0.2)
        init U_out = uniform(0.2)
        init b_out = progression(-0.5, -0.5)
        init W_c   = uniform(0.2)
        init U_c   = uniform(0.2)
        # The forget-bias settings (`--forget-bias B`: b_φ = B in every block; chrono: b_φ drawn per
        # block and b_in = −b_φ) replace these two init lines; without one, they hold.
        forget b_φ
        input  b_in

        """
}
