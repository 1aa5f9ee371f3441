using FlowOrleans.Transport;
using FlowOrleans.Transport.Protocols.Framing;

namespace FlowOrleans.Tests.Protocols;

/// <summary>The one mapping of framed-connection failures to <see cref="FlowException"/>s, on its own.</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class FramedConnectionFaultsTests
{
    private readonly FramedConnectionFaults _faults = new("tcp");

    [Fact]
    public void ANewConnectionHasNothingBlockingEitherDirection()
    {
        Assert.False(_faults.IsStopped);
        Assert.Null(_faults.ReadBlocker);
        Assert.Null(_faults.WriteBlocker);
    }

    [Fact]
    public void AnAbortBlocksBothDirectionsWithAbortedNamingTheFirstReason()
    {
        var first = new InvalidOperationException("first reason");

        Assert.True(_faults.TryAbort(first));
        Assert.False(_faults.TryAbort(new InvalidOperationException("second reason")));

        Assert.True(_faults.IsAborted);
        foreach (FlowException? blocker in new[] { _faults.ReadBlocker, _faults.WriteBlocker })
        {
            Assert.NotNull(blocker);
            Assert.Equal(FlowErrorCode.Aborted, blocker.Code);
            Assert.Same(first, blocker.InnerException);
            Assert.Contains("first reason", blocker.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void DisposalBlocksBothDirectionsOnceAndMakesALaterAbortMoot()
    {
        Assert.True(_faults.TryDispose());
        Assert.False(_faults.TryDispose());
        Assert.False(_faults.TryAbort(_faults.AbortedWithoutReason()));

        Assert.True(_faults.IsStopped);
        Assert.Equal(FlowErrorCode.Aborted, _faults.ReadBlocker?.Code);
        Assert.Equal(FlowErrorCode.Aborted, _faults.WriteBlocker?.Code);
    }

    [Fact]
    public void AStreamFailureIsNetworkAndEndsOnlyItsOwnDirection()
    {
        FlowException read = _faults.ReadFailure(new IOException("pipe broke"), CancellationToken.None);

        Assert.Equal(FlowErrorCode.Network, read.Code);
        Assert.Contains("pipe broke", read.Message, StringComparison.Ordinal);
        Assert.Same(read, _faults.ReadBlocker);
        Assert.Null(_faults.WriteBlocker);

        // The first fault of a direction is the one every later operation reports.
        _faults.ReadFailure(new IOException("later"), CancellationToken.None);
        Assert.Same(read, _faults.ReadBlocker);
    }

    [Fact]
    public void AFlowExceptionKeepsItsCodeAndEndsItsDirection()
    {
        var badFrame = new FlowException(FlowErrorCode.BadArg, "bad frame");

        Assert.Same(badFrame, _faults.WriteFailure(badFrame, CancellationToken.None));
        Assert.Same(badFrame, _faults.WriteBlocker);
        Assert.Null(_faults.ReadBlocker);
    }

    [Fact]
    public void TheCallersCancellationIsAbortedAndLeavesTheDirectionUsable()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        FlowException e = _faults.ReadFailure(new OperationCanceledException(cancelled.Token), cancelled.Token);

        Assert.Equal(FlowErrorCode.Aborted, e.Code);
        Assert.Null(_faults.ReadBlocker);
    }

    [Fact]
    public void CancellationEndsTheDirectionWhereTheMediumCannotSurviveIt()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        FlowException e = _faults.WriteFailure(new OperationCanceledException(cancelled.Token), cancelled.Token, cancellationEndsDirection: true);

        Assert.Equal(FlowErrorCode.Aborted, e.Code);
        Assert.Same(e, _faults.WriteBlocker);
        Assert.Null(_faults.ReadBlocker);
    }

    [Fact]
    public void ACancellationNotAskedForByTheCallerIsAStreamFailure()
    {
        FlowException e = _faults.ReadFailure(new OperationCanceledException(), CancellationToken.None);

        Assert.Equal(FlowErrorCode.Network, e.Code);
        Assert.Same(e, _faults.ReadBlocker);
    }

    [Fact]
    public void AfterAnAbortEveryFailureIsReportedAsTheAbort()
    {
        _faults.TryAbort(new InvalidOperationException("torn down"));

        FlowException fromMedium = _faults.ReadFailure(new IOException("socket closed"), CancellationToken.None);
        var alreadyAborted = new FlowException(FlowErrorCode.Aborted, "the medium's own abort");

        Assert.Equal(FlowErrorCode.Aborted, fromMedium.Code);
        Assert.Contains("torn down", fromMedium.Message, StringComparison.Ordinal);
        Assert.Same(alreadyAborted, _faults.WriteFailure(alreadyAborted, CancellationToken.None));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(101)]
    [InlineData(int.MaxValue)]
    public void AFrameLengthOutsideTheLimitIsBadArg(int length)
    {
        FlowException e = Assert.Throws<FlowException>(() => _faults.CheckFrameLength(length, maxFrameSize: 100));

        Assert.Equal(FlowErrorCode.BadArg, e.Code);
        Assert.Contains("tcp", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    public void AFrameLengthWithinTheLimitPasses(int length) => _faults.CheckFrameLength(length, maxFrameSize: 100);

    [Fact]
    public void CommittingWithoutAFrameIsBadState() =>
        Assert.Equal(FlowErrorCode.BadState, FramedConnectionFaults.CommitWithoutFrame().Code);
}
