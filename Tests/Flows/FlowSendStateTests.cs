using FlowOrleans.Transport;
using FlowOrleans.Transport.Flows;

namespace FlowOrleans.Tests.Flows;

/// <summary>The send half of one flow on its own: writes, chunks within credit, the open and the close, credit both ways.</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class FlowSendStateTests
{
    private const int Mtu = 64 * 1024;
    private const int Room = 65 * 1024;

    [Fact]
    public void ALocalFlowFirstSendsItsOpenEvenWithNothingWritten()
    {
        var send = new FlowSendState(isLocal: true, credit: 0);

        Assert.True(send.OpensFlow);
        Assert.False(send.IsAcknowledged);
        Assert.True(send.TryEnterReadyQueue(sharedCredit: 0, out _));
        Assert.Equal(ChunkPlan.Send, send.PlanChunk(Room, sharedCredit: 0, Mtu, out var length, out var close));
        Assert.Equal(0, length);
        Assert.False(close);

        send.CommitChunk(length, close);
        Assert.False(send.OpensFlow);
        Assert.Equal(ChunkPlan.Nothing, send.PlanChunk(Room, sharedCredit: 0, Mtu, out _, out _));
    }

    [Fact]
    public void AChunkIsHeldToTheCreditTheMtuAndTheRoomLeft()
    {
        var send = new FlowSendState(isLocal: false, credit: 100_000);
        Assert.True(send.BeginWrite(new byte[200_000], close: false, Mtu));

        Assert.Equal(ChunkPlan.Send, send.PlanChunk(Room, 0, Mtu, out var length, out _));
        Assert.Equal(Mtu, length);
        Assert.Equal(ChunkPlan.Send, send.PlanChunk(1000, 0, Mtu, out length, out _));
        Assert.Equal(1000, length);

        send.CommitChunk(Mtu, close: false);
        Assert.Equal(100_000 - Mtu, send.Sendable(sharedCredit: 0));
        Assert.Equal(ChunkPlan.Send, send.PlanChunk(Room, 0, Mtu, out length, out _));
        Assert.Equal(100_000 - Mtu, length);
        send.CommitChunk(length, close: false);

        Assert.False(send.TryEnterReadyQueue(0, out var waitsForShared)); // bytes left, no credit
        Assert.False(waitsForShared); // a release of its own credit will queue it again
        Assert.Equal(ChunkPlan.Nothing, send.PlanChunk(Room, 0, Mtu, out _, out _));
    }

    [Fact]
    public void BeforeItsAcknowledgementAFlowSpendsTheSharedCreditAndGetsItBackWithTheFirstRelease()
    {
        var send = new FlowSendState(isLocal: true, credit: 0);
        send.BeginWrite(new byte[10_000], close: false, Mtu);

        Assert.Equal(ChunkPlan.Send, send.PlanChunk(Room, sharedCredit: 4_000, Mtu, out var length, out _));
        Assert.Equal(4_000, length);
        Assert.Equal(4_000, send.CommitChunk(length, close: false)); // charged to the shared credit
        Assert.Equal(4_000, send.Debt);
        Assert.False(send.TryEnterReadyQueue(sharedCredit: 0, out var waitsForShared));
        Assert.True(waitsForShared);

        // The acknowledgement grants the flow's window; what was sent on shared credit counts against it.
        Assert.Equal(4_000, send.AddCredit(256 * 1024));
        Assert.True(send.IsAcknowledged);
        Assert.Equal(0, send.Debt);
        Assert.Equal(256 * 1024 - 4_000, send.Sendable(sharedCredit: 0));
        Assert.Equal(0, send.CommitChunk(1_000, close: false)); // now its own credit
        Assert.Equal(0, send.AddCredit(1_000));
    }

    [Fact]
    public void WhatAFlowSentBeyondTheWindowItLearntStaysADebtUntilCreditPaysItBack()
    {
        var send = new FlowSendState(isLocal: true, credit: 0);
        send.BeginWrite(new byte[50_000], close: false, Mtu);
        send.PlanChunk(Room, sharedCredit: 50_000, Mtu, out var length, out _);
        Assert.Equal(50_000, send.CommitChunk(length, close: false));

        // A 16 KiB window: 16 KiB of the shared credit comes back, the rest is owed until more credit arrives.
        Assert.Equal(16 * 1024, send.AddCredit(16 * 1024));
        Assert.Equal(50_000 - (16 * 1024), send.Debt);
        Assert.Equal(0, send.Sendable(sharedCredit: long.MaxValue));
        Assert.Equal(10_000, send.AddCredit(10_000));
        Assert.Equal(send.Debt, send.AddCredit(100_000));
        Assert.Equal(0, send.Debt);
    }

    [Fact]
    public void ARefusedFlowGivesTheSharedCreditItSpentBack()
    {
        var send = new FlowSendState(isLocal: true, credit: 0);
        send.BeginWrite(new byte[3_000], close: false, Mtu);
        send.PlanChunk(Room, sharedCredit: 10_000, Mtu, out var length, out _);
        send.CommitChunk(length, close: false);

        Assert.Equal(3_000, send.TakeDebt());
        Assert.Equal(0, send.TakeDebt());
    }

    [Fact]
    public async Task TheCloseRidesWithTheLastChunkAndCompletesTheWrite()
    {
        var send = new FlowSendState(isLocal: false, credit: 1_000);
        Assert.True(send.BeginWrite(new byte[500], close: true, Mtu));
        var wait = send.WaitForWriteAsync().AsTask();

        Assert.Equal(ChunkPlan.Send, send.PlanChunk(Room, 0, Mtu, out var length, out var close));
        Assert.Equal(500, length);
        Assert.True(close);
        send.CommitChunk(length, close);
        Assert.True(send.CloseSent);
        Assert.True(send.TryCompleteWrite());
        await wait.WaitAsync(TimeSpan.FromSeconds(30));
        send.EndWrite(CancellationToken.None);

        Assert.False(send.BeginWrite(ReadOnlyMemory<byte>.Empty, close: true, Mtu)); // closing twice is harmless
        var again = Assert.Throws<FlowException>(() => send.BeginWrite(new byte[1], close: false, Mtu));
        Assert.Equal(FlowErrorCode.BadState, again.Code);
    }

    [Fact]
    public void TheCloseWaitsWhileCreditHoldsBackTheLastBytes()
    {
        var send = new FlowSendState(isLocal: false, credit: 100);
        send.BeginWrite(new byte[150], close: true, Mtu);

        send.PlanChunk(Room, 0, Mtu, out var length, out var close);
        Assert.Equal(100, length);
        Assert.False(close);
        send.CommitChunk(length, close);
        Assert.False(send.TryCompleteWrite());
    }

    [Fact]
    public void OneWriteAtATime()
    {
        var send = new FlowSendState(isLocal: false, credit: 0);
        send.BeginWrite(new byte[10], close: false, Mtu);

        var second = Assert.Throws<FlowException>(() => send.BeginWrite(new byte[10], close: false, Mtu));
        Assert.Equal(FlowErrorCode.BadState, second.Code);
    }

    [Fact]
    public async Task AnUnfragmentedMessageGoesWholeOrWaitsForAnEmptierRecord()
    {
        var send = new FlowSendState(isLocal: false, credit: 10);
        send.DisableFragmentation();
        var tooBig = Assert.Throws<FlowException>(() => send.BeginWrite(new byte[Mtu + 1], close: false, Mtu));
        Assert.Equal(FlowErrorCode.BadArg, tooBig.Code);

        send.BeginWrite(new byte[5_000], close: false, Mtu);
        Assert.Equal(ChunkPlan.Deferred, send.PlanChunk(room: 4_000, sharedCredit: Mtu, Mtu, out _, out _));

        // It may overdraw positive credit by what the shared credit covers, and no more.
        Assert.Equal(ChunkPlan.Nothing, send.PlanChunk(Room, sharedCredit: 4_989, Mtu, out _, out _));
        Assert.False(send.TryEnterReadyQueue(sharedCredit: 4_989, out var waitsForShared));
        Assert.True(waitsForShared);
        Assert.Equal(ChunkPlan.Send, send.PlanChunk(Room, sharedCredit: 4_990, Mtu, out var length, out _));
        Assert.Equal(5_000, length);
        Assert.Equal(4_990, send.CommitChunk(length, close: false));
        Assert.Equal(4_990, send.Debt);
        Assert.True(send.TryCompleteWrite());
        await send.WaitForWriteAsync();
        send.EndWrite(CancellationToken.None);

        // With no credit left it waits for its own credit, rather than split.
        send.BeginWrite(new byte[10], close: false, Mtu);
        Assert.Equal(ChunkPlan.Nothing, send.PlanChunk(Room, sharedCredit: Mtu, Mtu, out _, out _));
        Assert.False(send.TryEnterReadyQueue(sharedCredit: Mtu, out waitsForShared));
        Assert.False(waitsForShared);
    }

    [Fact]
    public async Task ACancelledWriteDropsWhatWasNotSentAndEndsWithCancellation()
    {
        var send = new FlowSendState(isLocal: false, credit: 10);
        send.BeginWrite(new byte[100], close: true, Mtu);
        send.PlanChunk(Room, 0, Mtu, out var length, out _);
        send.CommitChunk(length, close: false);

        Assert.True(send.CancelWrite());
        send.SignalWriteDone();
        await send.WaitForWriteAsync();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        Assert.Throws<OperationCanceledException>(() => send.EndWrite(cancelled.Token));

        // The cancelled close did not happen: the flow can still write and close.
        Assert.False(send.CancelWrite());
        Assert.True(send.BeginWrite(ReadOnlyMemory<byte>.Empty, close: true, Mtu));
    }

    [Fact]
    public async Task FinishingFailsThePendingWriteWithItsError()
    {
        var send = new FlowSendState(isLocal: false, credit: 0);
        send.BeginWrite(new byte[100], close: false, Mtu);
        var wait = send.WaitForWriteAsync().AsTask();

        send.Finish(new FlowException(FlowErrorCode.Aborted, "gone"));
        await wait.WaitAsync(TimeSpan.FromSeconds(30));

        var error = Assert.Throws<FlowException>(() => send.EndWrite(CancellationToken.None));
        Assert.Equal(FlowErrorCode.Aborted, error.Code);
        Assert.True(send.IsFinished);
        Assert.False(send.TryEnterReadyQueue(sharedCredit: long.MaxValue, out _));
        Assert.Equal(ChunkPlan.Nothing, send.PlanChunk(Room, long.MaxValue, Mtu, out _, out _));
        Assert.Throws<FlowException>(() => send.BeginWrite(new byte[1], close: false, Mtu));
    }

    [Fact]
    public void AFlowIsQueuedForTheWriterOnceUntilTheWriterTakesIt()
    {
        var send = new FlowSendState(isLocal: false, credit: 100);
        send.BeginWrite(new byte[10], close: false, Mtu);

        Assert.True(send.TryEnterReadyQueue(0, out _));
        Assert.False(send.TryEnterReadyQueue(0, out _));
        send.LeaveReadyQueue();
        Assert.True(send.TryEnterReadyQueue(0, out _));
    }

    // Seen in the chaos test: a silo closing its flows disposed one right after the application's write went out and
    // before its writer resumed. Disposal's close then began on the same signal, took the write's completion, and
    // failed with "A write ended before the connection finished it", which stopped the silo closing its other flows.
    [Fact]
    public async Task AWriteHoldsTheFlowUntilItsWriterEndedItNotOnlyUntilItsBytesWentOut()
    {
        var send = new FlowSendState(isLocal: false, credit: 100_000);
        Assert.True(send.BeginWrite(new byte[1000], close: false, Mtu));
        send.PlanChunk(Room, 0, Mtu, out var length, out _);
        send.CommitChunk(length, close: false);
        Assert.True(send.TryCompleteWrite()); // all of it went out; its writer has not resumed yet

        var close = Assert.Throws<FlowException>(() => send.BeginWrite(ReadOnlyMemory<byte>.Empty, close: true, Mtu));
        Assert.Equal(FlowErrorCode.BadState, close.Code);

        await send.WaitForWriteAsync();
        send.EndWrite(CancellationToken.None);
        Assert.True(send.BeginWrite(ReadOnlyMemory<byte>.Empty, close: true, Mtu)); // now the close may begin
    }

    [Fact]
    public void DisposalFollowsTheCloseWithAResetOnlyWhileThePeerStillSends()
    {
        var send = new FlowSendState(isLocal: false, credit: 0);
        Assert.False(send.TakeResetAfterClose(remoteClosed: false, connectionClosing: false)); // not disposing

        Assert.True(send.PrepareDispose());
        Assert.False(send.TakeResetAfterClose(remoteClosed: true, connectionClosing: false));
        Assert.False(send.TakeResetAfterClose(remoteClosed: false, connectionClosing: true));
        Assert.True(send.TakeResetAfterClose(remoteClosed: false, connectionClosing: false));
        Assert.True(send.ResetSent);

        send.Finish(new FlowException(FlowErrorCode.Aborted, "gone"));
        Assert.False(send.PrepareDispose());
    }

    [Fact]
    public void TheAcknowledgementOfAFlowNotYetOfferedGrantsItsWindowAndWhatWasReleasedMeanwhile()
    {
        var send = new FlowSendState(isLocal: false, credit: 0);
        Assert.False(send.TryHoldCredit(100)); // nothing held: goes out now
        Assert.False(send.TryRequestAcknowledgementFlush());

        send.HoldAcknowledgement(window: 1000);
        Assert.True(send.TryHoldCredit(100));
        Assert.True(send.TryHoldCredit(50));
        Assert.Equal(1150, send.ReleaseAcknowledgement(out var flushRequested));
        Assert.False(flushRequested);
        Assert.False(send.TryHoldCredit(10));
    }

    [Fact]
    public void AFlushAskedForWhileTheAcknowledgementIsHeldIsPassedToTheOffer()
    {
        var send = new FlowSendState(isLocal: false, credit: 0);
        send.HoldAcknowledgement(window: 1000);
        Assert.True(send.TryRequestAcknowledgementFlush());
        Assert.Equal(1000, send.ReleaseAcknowledgement(out var flushRequested));
        Assert.True(flushRequested);
        Assert.False(send.TryRequestAcknowledgementFlush());
    }
}
