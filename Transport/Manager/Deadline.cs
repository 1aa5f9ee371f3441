namespace FlowOrleans.Transport.Manager;

/// <summary>
/// A timeout on a clock joined with a stop token: how the manager and the proxy bound what they wait for (a dial, a
/// proxy registration, a flow's first message), always on their own <see cref="TimeProvider"/>.
/// <see cref="DialAsync"/> is the one dial-under-timeout path: it also reports a dial the timeout cut short as
/// <see cref="FlowErrorCode.DialFailed"/>, while a dial ended by the stop token stays <see cref="FlowErrorCode.Aborted"/>.
/// </summary>
internal sealed class Deadline : IDisposable
{
    private readonly CancellationTokenSource _expiry;
    private readonly CancellationTokenSource _linked;
    private readonly CancellationToken _stop;

    /// <param name="timeout">Positive, or <see cref="Timeout.InfiniteTimeSpan"/> for none.</param>
    /// <param name="time">The clock the timeout runs on.</param>
    /// <param name="stop">Ends the wait early (the owner closing, the caller cancelling).</param>
    public Deadline(TimeSpan timeout, TimeProvider time, CancellationToken stop)
    {
        _stop = stop;
        _expiry = new CancellationTokenSource(timeout, time);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(stop, _expiry.Token);
    }

    /// <summary>Fires when the timeout passes or the stop token fires.</summary>
    public CancellationToken Token => _linked.Token;

    /// <summary>True when the timeout passed and the stop token has not fired: the wait was cut short by time alone.</summary>
    public bool Expired => _expiry.IsCancellationRequested && !_stop.IsCancellationRequested;

    /// <summary>
    /// Runs <paramref name="dial"/> under a deadline. When the timeout cuts it short, what it throws for that
    /// (<see cref="OperationCanceledException"/> or an <see cref="FlowErrorCode.Aborted"/> <see cref="FlowException"/>)
    /// becomes <see cref="FlowErrorCode.DialFailed"/> saying that <paramref name="what"/> did not finish in time;
    /// every other outcome is the dial's own.
    /// </summary>
    /// <param name="what">The dial, as the error names it: <c>Dialing @6@tcp@…</c>.</param>
    public static async Task<T> DialAsync<T>(
        string what, TimeSpan timeout, TimeProvider time, Func<CancellationToken, Task<T>> dial, CancellationToken stop)
    {
        using var deadline = new Deadline(timeout, time, stop);
        try
        {
            return await dial(deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (deadline.Expired && e is OperationCanceledException or FlowException { Code: FlowErrorCode.Aborted })
        {
            throw new FlowException(FlowErrorCode.DialFailed, $"{what} did not finish within {timeout}.", e);
        }
    }

    public void Dispose()
    {
        _linked.Dispose();
        _expiry.Dispose();
    }
}
