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

        ledger.ReleaseSharedCredit();
        Assert.Equal(0, counters.ReservedWindowBytes);
    }

    [Fact]
    public void NewWindowsGetTheInitialSizeWhileTheBudgetLastsAndTheBudgetHoldsExactly()
    {
        var counters = new ConnectionCounters();
        var ledger = new CreditLedger(Options(), counters, peerSharedCredit: 0);

        // 1 MiB budget, 64 KiB held for shared credit, and 16 KiB kept for each of the 8 flows that may still open: three
        // initial windows fit, then what is left above the minimums, then the minimum; never more than the budget.
        Assert.Equal(256 * 1024, ledger.ReserveWindow());
        Assert.Equal(256 * 1024, ledger.ReserveWindow());
        Assert.Equal(256 * 1024, ledger.ReserveWindow());
        Assert.Equal(128 * 1024, ledger.ReserveWindow());
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(16 * 1024, ledger.ReserveWindow());
        }

        Assert.Equal(1024 * 1024, counters.ReservedWindowBytes);
        Assert.Equal(0, ledger.ReserveWindow()); // a ninth would overrun the budget: the flow is refused
        Assert.Equal(1024 * 1024, counters.ReservedWindowBytes);
    }

    [Fact]
    public void GrowthIsRefusedPastTheBudgetLessTheMinimumsKeptAndUnreservingMakesRoomAgain()
    {
        var counters = new ConnectionCounters();
        var ledger = new CreditLedger(Options(), counters, peerSharedCredit: 0);

        Assert.True(ledger.TryReserve(1024 * 1024 - (64 * 1024) - (8 * 16 * 1024)));
        Assert.False(ledger.TryReserve(1));
        ledger.Unreserve(100, remaining: 1024 * 1024);
        Assert.True(ledger.TryReserve(100));
        Assert.Equal(1024 * 1024 - (8 * 16 * 1024), counters.ReservedWindowBytes);
    }

    [Fact]
    public void TheManagersBudgetBoundsEveryConnectionThatSharesIt()
    {
        var pool = new ReceiveBudgetPool(64 * 1024 + (256 * 1024) + (16 * 1024));
        var first = new CreditLedger(Options(), new ConnectionCounters(), peerSharedCredit: 0, pool);
        Assert.True(first.TryStart());
        Assert.Equal(256 * 1024, first.ReserveWindow());
        Assert.Equal(16 * 1024, first.ReserveWindow()); // the initial window no longer fits the pool: the minimum does
        Assert.Equal(0, first.ReserveWindow());
        Assert.False(first.TryReserve(1));

        var second = new CreditLedger(Options(), new ConnectionCounters(), peerSharedCredit: 0, pool);
        Assert.False(second.TryStart()); // no room for its shared credit: the connection is refused
        second.ReleaseSharedCredit();
        Assert.Equal(pool.Limit, pool.Reserved);

        first.Unreserve(16 * 1024, remaining: 0);
        first.ReleaseSharedCredit();
        Assert.Equal(256 * 1024, pool.Reserved);
    }

    [Fact]
    public void ThePeersBytesBeyondItsCreditAreHeldToTheSharedCreditAcrossAllFlows()
    {
        var ledger = new CreditLedger(Options(), new ConnectionCounters(), peerSharedCredit: 0);

        Assert.True(ledger.TryDrawShared(40 * 1024));
        Assert.True(ledger.TryDrawShared(24 * 1024));
        Assert.False(ledger.TryDrawShared(1)); // counted once per connection, not per flow
        ledger.ReturnShared(1024);
        Assert.True(ledger.TryDrawShared(1024));
        Assert.Equal(64 * 1024, ledger.PeerDrawn);
    }

    [Fact]
    public void ReturnedSharedCreditWakesOnlyWhenAFlowWaitsForIt()
    {
        var ledger = new CreditLedger(Options(), new ConnectionCounters(), peerSharedCredit: 1000);
        ledger.SpendSharedLocked(600);
        Assert.False(ledger.ReturnSharedLocked(100)); // nobody waited for it
        ledger.SpendSharedLocked(500);
        Assert.Equal(0, ledger.SharedSendCreditLocked);
        ledger.NoteSharedWaiterLocked();
        Assert.True(ledger.ReturnSharedLocked(300));
        Assert.Equal(300, ledger.SharedSendCreditLocked);
        Assert.False(ledger.ReturnSharedLocked(300));
        Assert.False(ledger.ReturnSharedLocked(0));
    }

    [Fact]
    public void ADebtAFlowLeftBehindIsPaidByLaterCreditOrWrittenOffByAReset()
    {
        var ledger = new CreditLedger(Options(), new ConnectionCounters(), peerSharedCredit: 100_000);
        ledger.SpendSharedLocked(30_000);
        ledger.KeepDebtLocked(flowId: 1, debt: 10_000);
        ledger.KeepDebtLocked(flowId: 3, debt: 20_000);
        ledger.KeepDebtLocked(flowId: 5, debt: 0);

        Assert.Equal(4_000, ledger.PayLeftDebtLocked(1, 4_000));
        Assert.Equal(6_000, ledger.PayLeftDebtLocked(1, 50_000));
        Assert.Equal(0, ledger.PayLeftDebtLocked(1, 1_000)); // settled
        Assert.Equal(0, ledger.PayLeftDebtLocked(5, 1_000)); // never owed
        Assert.Equal(20_000, ledger.WriteOffLeftDebtLocked(3));
        Assert.Equal(0, ledger.WriteOffLeftDebtLocked(3));
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

        Assert.Equal(Enumerable.Range(1, 100).Select(i => new FlowCredit((ulong)i, (ulong)i * 1000)), received.OrderBy(c => c.FlowId));

        writer.Reset(buffer);
        ledger.WriteReleasesLocked(writer, maxBytes: 500);
        Assert.Equal(0, writer.Written);
    }

    [Fact]
    public void CreditOwedOnOneFlowWaitsAsOneEntryHoweverOftenItGrows()
    {
        var counters = new ConnectionCounters();
        var ledger = new CreditLedger(Options(), counters, peerSharedCredit: 0);
        for (var i = 0; i < 1000; i++)
        {
            ledger.QueueReleaseLocked(7, 100);
        }

        Assert.Equal(CreditLedger.ReleaseEntryCost, counters.QueuedControlBytes);
        var writer = new MemoryBufferWriter();
        writer.Reset(new byte[256]);
        ledger.WriteReleasesLocked(writer, maxBytes: 256);
        Assert.True(MessageCodec.TryRead(new ReadOnlySequence<byte>((ReadOnlyMemory<byte>)writer.WrittenMemory), 4096, out var message, out _));
        Assert.Equal([new FlowCredit(7, 100_000)], Assert.IsType<Release>(message).Credits);
        Assert.Equal(0, counters.QueuedControlBytes);
    }
}
