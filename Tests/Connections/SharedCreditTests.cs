using System.Security.Cryptography;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Flows;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Connections;

/// <summary>
/// The shared credit is counted once per connection (docs/architecture.md 3.4), so every debt must come back however a
/// flow ends: were one lost, the next whole message that needs the shared credit would wait forever.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class SharedCreditTests
{
    private const int Window = 1024;
    private const int Message = 60_000;

    private static void TinyWindows(ConnectionOptions o)
    {
        o.MinFlowWindow = Window;
        o.InitialFlowWindow = Window;
        o.MaxFlowWindow = Window;
        o.SharedCredit = 64 * 1024; // the least, and less than two messages' debts
    }

    [Fact]
    public async Task DebtsComeBackWhetherTheReaderReadsDropsOrOutlivesTheWriter()
    {
        await using var peers = await ConnectAsync(dialerOptions: TinyWindows, acceptorOptions: TinyWindows);
        var payload = RandomNumberGenerator.GetBytes(Message);
        for (var i = 0; i < 60; i++)
        {
            // Each message runs almost 59 KB past its 1 KiB window: one such debt not settled stalls the next.
            var flow = peers.Dialer.OpenFlow();
            flow.DisableFragmentation();
            await flow.WriteMessageAndCloseAsync([payload]).AsTask().WaitAsync(TestTimeout);
            var accepted = await peers.AcceptorAccepts.ReadAsync().AsTask().WaitAsync(TestTimeout);
            switch (i % 3)
            {
                case 0: // read to the end, then disposed
                    Assert.Equal(payload, await accepted.ReadMessageAsync().AsTask().WaitAsync(TestTimeout));
                    Assert.Null(await accepted.ReadMessageAsync().AsTask().WaitAsync(TestTimeout));
                    await accepted.DisposeAsync();
                    await flow.DisposeAsync();
                    break;
                case 1: // disposed unread
                    await WaitUntilAsync(() => ((Flow)accepted).RemoteClosed);
                    await accepted.DisposeAsync();
                    await flow.DisposeAsync();
                    break;
                default: // read after the writer disposed its end, which left its table owing the debt
                    await flow.DisposeAsync();
                    Assert.Equal(payload, await accepted.ReadMessageAsync().AsTask().WaitAsync(TestTimeout));
                    await accepted.DisposeAsync();
                    break;
            }
        }

        await WaitUntilAsync(() => peers.Dialer.Counters.OpenFlows == 0 && peers.Acceptor.Counters.OpenFlows == 0);
        await WaitUntilAsync(() => peers.Acceptor.Counters.ReservedWindowBytes == 64 * 1024, () => $"{peers.Acceptor.Counters.ReservedWindowBytes} reserved");
        Assert.Equal(0, peers.Acceptor.Counters.BufferedBytes);
    }

    [Fact]
    public async Task AReaderThatStopsReadingHoldsBackOnlyItsOwnDebtAndEverythingGoesOnceItReads()
    {
        await using var peers = await ConnectAsync(dialerOptions: TinyWindows, acceptorOptions: TinyWindows);
        var payload = RandomNumberGenerator.GetBytes(Message);

        // One message outstanding on a flow nobody reads holds most of the shared credit ...
        var first = peers.Dialer.OpenFlow();
        first.DisableFragmentation();
        await first.WriteMessageAsync([payload]).AsTask().WaitAsync(TestTimeout);
        var firstAccepted = await peers.AcceptorAccepts.ReadAsync().AsTask().WaitAsync(TestTimeout);

        // ... so a second whole message waits for it, instead of the receiver buffering beyond its shared credit ...
        var second = peers.Dialer.OpenFlow();
        second.DisableFragmentation();
        var waiting = second.WriteMessageAsync([payload]).AsTask();
        var secondAccepted = await peers.AcceptorAccepts.ReadAsync().AsTask().WaitAsync(TestTimeout);
        Assert.InRange(peers.Acceptor.Counters.BufferedBytes, Message, Message + Window);
        Assert.False(waiting.IsCompleted);

        // ... until the first is read, which pays its debt back.
        Assert.Equal(payload, await firstAccepted.ReadMessageAsync().AsTask().WaitAsync(TestTimeout));
        await waiting.WaitAsync(TestTimeout);
        Assert.Equal(payload, await secondAccepted.ReadMessageAsync().AsTask().WaitAsync(TestTimeout));
    }
}
