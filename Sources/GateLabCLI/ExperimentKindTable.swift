import GateLabExperiments
import GateLabProbe
import GateLabProbeExperiments
import GateLabReproductions
import GateLabTraining

/// The experiment kinds `gatelab run`, `merge` and `slurm` know: the one place where a file's
/// `kind` picks its code. A new kind is one row here.
let experimentKinds = ExperimentKinds([ProbeKind.self, TrainingKind.self, ReproductionKind.self, StudyKind.self])
