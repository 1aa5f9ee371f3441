using FlowOrleans.Fuzz;
using FlowOrleans.Fuzz.Targets;

// The fuzzing program: under libFuzzer (through fuzz/driver) it runs one target per process; on its own it replays
// inputs, writes the seed corpus, or checks the targets against their seeds. See fuzz/README.md.
FuzzTarget[] targets =
[
    new MessageCodecTarget(),
    new HandshakeTarget(),
    new EndpointTarget(),
    new BlessingPatternTarget(),
    new SecurityDecodersTarget(),
];

return FuzzProgram.Run(args, targets);
