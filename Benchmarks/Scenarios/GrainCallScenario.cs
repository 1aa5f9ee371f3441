using System.Diagnostics;
using FlowOrleans.Benchmarks.Grains;
using FlowOrleans.Benchmarks.Running;
using FlowOrleans.Benchmarks.Systems;

namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>
/// The reference for <c>orleans-relay-pingpong</c>: plain grain calls from the same cluster client to the same silo,
/// one after another, each carrying the same 128 B slice of <see cref="Payload"/> there and back (a trivial
/// <see cref="IEchoGrain"/>, no flows involved), reply checked after timing. The relay's round trip holds two such
/// hops plus the direct flow's round trip; this row prices one.
/// </summary>
internal sealed class GrainCallScenario : IScenario
{
    public string Name => "orleans-grain-call";

    public string Description => "plain grain call round trips, client to silo and back, 128 B each way";

    public bool AppliesTo(IBenchSystem system) => system is OrleansSystem;

    public async Task<IReadOnlyList<Measurement>> RunAsync(
        IBenchSystem system, ScenarioSettings settings, CancellationToken cancellationToken)
    {
        var grain = ((OrleansSystem)system).ClusterClient.GetGrain<IEchoGrain>(0);
        var histogram = PingPong.NewHistogram();

        // Untimed: the first call of a process activates the grain.
        await grain.EchoAsync(Payload.At(0, PingPong.MessageSize).ToArray()).WaitAsync(cancellationToken);

        long position = 0;
        var deadline = new Deadline(settings.Duration);
        while (!deadline.HasPassed)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var message = Payload.At(position, PingPong.MessageSize).ToArray();
            var start = Stopwatch.GetTimestamp();
            var reply = await grain.EchoAsync(message);
            histogram.RecordValue(Stopwatch.GetTimestamp() - start);
            if (reply.Length != PingPong.MessageSize)
            {
                throw new InvalidDataException($"The grain returned {reply.Length} bytes for {PingPong.MessageSize}.");
            }

            Payload.Check(position, reply);
            position += PingPong.MessageSize;
        }

        return
        [
            new("rtt-p50", PingPong.Microseconds(histogram, 50), "µs"),
            new("rtt-p99", PingPong.Microseconds(histogram, 99), "µs"),
        ];
    }
}
