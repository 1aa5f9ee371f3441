using FlowOrleans.Tests.Connections;
using FlowOrleans.Transport.Protocols.Faults;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Tests.Reliability;

/// <summary>
/// Issue 19, item 1: a pinned connection that a fault breaks (cut, reset, or a peer that stops reading and is caught by
/// the channel timeout) comes back by itself, and the new connection carries flows with exactly the bytes sent.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class PinnedFaultTests
{
    public static TheoryData<string> Faults => ["cut", "reset", "stall"];

    [Theory]
    [MemberData(nameof(Faults))]
    public async Task APinnedConnectionBrokenByAFaultComesBack(string fault)
    {
        // Only the first connection the client dials is faulty; the fault strikes some KB into the stream it sends or
        // (the stall) receives.
        FaultPlan plan = fault switch
        {
            "cut" => new FaultPlan { CutAfterBytes = 30_000 },
            "reset" => new FaultPlan { ResetAfterBytes = 30_000 },
            _ => new FaultPlan { StallReadsAfterBytes = 10_000 },
        };
        var dials = 0;
        await using var run = await FaultRun.StartAsync(
            info => info.Dialed && Interlocked.Increment(ref dials) == 1 ? plan : FaultPlan.None,
            connection: o => o.ChannelTimeout = TimeSpan.FromSeconds(2));

        var pin = await run.Client.PinConnectionAsync(run.ServerEndpoint, PeerAuthorizers.AllowEveryone(run.Client.Principal));
        var first = pin.Connection;

        // Traffic until the fault has struck: the exchange fails (or, for the stall, hangs until the channel timeout).
        await run.ExchangeAsync(1, 100_000, 100_000);
        await first.Closed.WaitAsync(ConnectionTestKit.TestTimeout);
        await ConnectionTestKit.WaitUntilAsync(
            () => pin.Reconnects >= 1 && pin.Connection != first && !pin.Connection.Closed.IsCompleted,
            () => $"pin not back: {pin.Reconnects} reconnects");

        var completed = run.Completed;
        await run.ExchangeAsync(2, 200_000, 200_000);
        Assert.Equal(completed + 1, run.Completed);
        Assert.Contains(pin.Connection, run.Client.Connections);
        run.AssertNoViolations(fault);

        pin.Unpin();
        await run.AssertNothingLeftAsync();
    }
}
