// Reading trial records of GateLab 0.3.0, whose nested `parameters` had the Swift names as
// keys (`learningRate`, `cellsPerBlock`, `{"adding": {"T": 100}}`, `{"absolute": {"_0": 0.04}}`)
// where records now have snake_case (`learning_rate`, `cells_per_block`, `{"adding": {"t":
// 100}}`, `{"absolute": {"threshold": 0.04}}`): `TrialRecord` first decodes its parameters as
// they are written now and, failing that, through the one reader of old spellings,
// `GateLabSupport.LegacyKeyDecoder`, with the unlabelled values below.
import GateLabSupport

extension LegacyKeyDecoder {
    /// Over a 0.3.0 record's parameters: the one unlabelled associated value `_0` is
    /// `threshold` or `levels`, whichever is asked for.
    static func trialParameters(_ base: Decoder) -> LegacyKeyDecoder {
        LegacyKeyDecoder(base: base, unlabelled: ["threshold", "levels"])
    }
}
