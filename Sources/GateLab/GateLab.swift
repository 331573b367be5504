// The umbrella module: `import GateLab` gives a program or a package that depends on GateLab the
// public API of every module below, as one import. The modules themselves stay separate (each
// builds and tests on its own, and a user who wants only the engine can depend on it alone).

@_exported import GateLabSupport
@_exported import GateLabGSL
@_exported import GateLabAutodiff
@_exported import GateLabGradCheck
@_exported import GateLabCells
@_exported import GateLabCellLanguage
@_exported import GateLabInterchange
@_exported import GateLabVerification
@_exported import GateLabTasks
@_exported import GateLabExperiments
@_exported import GateLabProbe
@_exported import GateLabProbeExperiments
@_exported import GateLabTraining
@_exported import GateLabReproductions
