// The Probe module: see the issue "Probe". (Being written.)
enum ProbeModule {}
