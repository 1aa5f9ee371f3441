using System.Buffers;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Messages;

namespace FlowOrleans.Tests.Connections;

/// <summary>A connection's credit ledger on its own: the receive budget, the shared send credit, the releases owed.</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class CreditLedgerTests
{
    private static ConnectionOptions Options() => new()
    {
        InitialFlowWindow = 256 * 1024,
        MinFlowWindow = 16 * 1024,
        SharedCredit = 64 * 1024,
        MaxConcurrentFlows = 8,
        ReceiveBudget = 1024 * 1024,
    };

    [Fact]
    public void TheSharedCreditGrantedIsReservedForTheConnectionsLife()
    {
        var counters = new ConnectionCounters();
        var ledger = new CreditLedger(Options(), counters, peerSharedCredit: 0);
        Assert.Equal(64 * 1024, counters.ReservedWindowBytes);
        Assert.Equal(64 * 1024, ledger.AllowanceForRemoteFlows);

        ledger.ReleaseSharedCredit();
        Assert.Equal(0, counters.ReservedWindowBytes);
    }

    [Fact]
    public void NewWindowsGetTheInitialSizeWhileTheBudgetLastsThenTheMinimum()
    {
        var counters = new ConnectionCounters();
        var ledger = new CreditLedger(Options(), counters, peerSharedCredit: 0);

        // 1 MiB budget, 64 KiB held for shared credit: three initial windows fit, then what is left, then the minimum.
        Assert.Equal(256 * 1024, ledger.ReserveWindow());
        Assert.Equal(256 * 1024, ledger.ReserveWindow());
        Assert.Equal(256 * 1024, ledger.ReserveWindow());
        Assert.Equal(192 * 1024, ledger.ReserveWindow());
        Assert.Equal(16 * 1024, ledger.ReserveWindow());
        Assert.Equal(1024 * 1024 + 16 * 1024, counters.ReservedWindowBytes);
    }

    [Fact]
    public void GrowthIsRefusedPastTheBudgetAndUnreservingMakesRoomAgain()
    {
        var counters = new ConnectionCounters();
        var ledger = new CreditLedger(Options(), counters, peerSharedCredit: 0);

        Assert.True(ledger.TryReserve(1024 * 1024 - 64 * 1024));
        Assert.False(ledger.TryReserve(1));
        ledger.Unreserve(100);
        Assert.True(ledger.TryReserve(100));
        Assert.Equal(1024 * 1024, counters.ReservedWindowBytes);
    }

    [Fact]
    public void ReturnedSharedCreditReportsWhenItRanOutAndIsBack()
    {
        var ledger = new CreditLedger(Options(), new ConnectionCounters(), peerSharedCredit: 1000);
        ledger.SpendSharedLocked(600);
        Assert.False(ledger.ReturnSharedLocked(100)); // never ran out: nobody waited for it
        ledger.SpendSharedLocked(500);
        Assert.Equal(0, ledger.SharedSendCreditLocked);
        Assert.True(ledger.ReturnSharedLocked(300));
        Assert.Equal(300, ledger.SharedSendCreditLocked);
        Assert.False(ledger.ReturnSharedLocked(0));
    }

    [Fact]
    public void OwedCreditGoesOutAsReleaseMessagesThatFitTheRoomGiven()
    {
        var ledger = new CreditLedger(Options(), new ConnectionCounters(), peerSharedCredit: 0);
        for (ulong id = 1; id <= 100; id++)
        {
            ledger.QueueReleaseLocked(id, (long)id * 1000);
        }

        var received = new List<FlowCredit>();
        var buffer = new byte[2048];
        var writer = new MemoryBufferWriter();
        while (ledger.HasReleasesLocked)
        {
            writer.Reset(buffer);
            ledger.WriteReleasesLocked(writer, maxBytes: 500);
            Assert.InRange(writer.Written, 1, 500);
            var written = new ReadOnlySequence<byte>((ReadOnlyMemory<byte>)writer.WrittenMemory);
            Assert.True(MessageCodec.TryRead(written, 4096, out var message, out var consumed));
            Assert.Equal(written.End, consumed);
            received.AddRange(Assert.IsType<Release>(message).Credits);
        }

        Assert.Equal(Enumerable.Range(1, 100).Select(i => new FlowCredit((ulong)i, (ulong)i * 1000)), received);

        writer.Reset(buffer);
        ledger.WriteReleasesLocked(writer, maxBytes: 500);
        Assert.Equal(0, writer.Written);
    }
}
