using FlowOrleans.Transport;
using FlowOrleans.Transport.Manager;
using Microsoft.Extensions.Time.Testing;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Manager;

/// <summary>The manager's one way to bound a dial, on a fake clock.</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class DeadlineTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void TheTokenFiresWhenTheTimeoutPassesOnTheGivenClockAndNotBefore()
    {
        using var deadline = new Deadline(Timeout, _time, CancellationToken.None);

        _time.Advance(Timeout - TimeSpan.FromTicks(1));
        Assert.False(deadline.Token.IsCancellationRequested);

        _time.Advance(TimeSpan.FromTicks(1));
        Assert.True(deadline.Token.IsCancellationRequested);
        Assert.True(deadline.Expired);
    }

    [Fact]
    public void TheStopTokenEndsTheWaitWithoutCountingAsExpiry()
    {
        using var stop = new CancellationTokenSource();
        using var deadline = new Deadline(Timeout, _time, stop.Token);

        stop.Cancel();

        Assert.True(deadline.Token.IsCancellationRequested);
        Assert.False(deadline.Expired);
    }

    [Fact]
    public async Task ADialThatFinishesInTimeReturnsItsResult()
    {
        Assert.Equal(42, await Deadline.DialAsync("Dialing x", Timeout, _time, _ => Task.FromResult(42), CancellationToken.None));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ADialCutShortByTheTimeoutIsDialFailedNamingIt(bool dialReportsAborted)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<int> dial = Deadline.DialAsync("Dialing @6@tcp@x", Timeout, _time, async token =>
        {
            started.SetResult();
            try
            {
                await Task.Delay(System.Threading.Timeout.Infinite, token);
            }
            catch (OperationCanceledException e) when (dialReportsAborted)
            {
                throw new FlowException(FlowErrorCode.Aborted, "cancelled", e);
            }

            return 0;
        }, CancellationToken.None);
        await started.Task.WaitAsync(TestTimeout);

        _time.Advance(Timeout);

        FlowException e = await Assert.ThrowsAsync<FlowException>(() => dial.WaitAsync(TestTimeout));
        Assert.Equal(FlowErrorCode.DialFailed, e.Code);
        Assert.Contains("Dialing @6@tcp@x did not finish within", e.Message, StringComparison.Ordinal);
        Assert.NotNull(e.InnerException);
    }

    [Fact]
    public async Task ADialEndedByTheStopTokenStaysAborted()
    {
        using var stop = new CancellationTokenSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<int> dial = Deadline.DialAsync<int>("Dialing x", Timeout, _time, async token =>
        {
            started.SetResult();
            try
            {
                await Task.Delay(System.Threading.Timeout.Infinite, token);
            }
            catch (OperationCanceledException e)
            {
                throw new FlowException(FlowErrorCode.Aborted, "cancelled", e);
            }

            throw new InvalidOperationException("unreachable");
        }, stop.Token);
        await started.Task.WaitAsync(TestTimeout);

        await stop.CancelAsync();

        FlowException e = await Assert.ThrowsAsync<FlowException>(() => dial.WaitAsync(TestTimeout));
        Assert.Equal(FlowErrorCode.Aborted, e.Code);
    }

    [Fact]
    public async Task AnyOtherFailureIsTheDialsOwnEvenAfterExpiry()
    {
        var refused = new FlowException(FlowErrorCode.NotTrusted, "refused");
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<int> dial = Deadline.DialAsync<int>("Dialing x", Timeout, _time, async token =>
        {
            started.SetResult();
            await Task.Delay(System.Threading.Timeout.Infinite, token).ContinueWith(_ => { }, TaskScheduler.Default);
            throw refused;
        }, CancellationToken.None);
        await started.Task.WaitAsync(TestTimeout);

        _time.Advance(Timeout);

        Assert.Same(refused, await Assert.ThrowsAsync<FlowException>(() => dial.WaitAsync(TestTimeout)));
    }
}
