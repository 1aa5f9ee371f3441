using System.Threading.Tasks.Sources;

namespace FlowOrleans.Transport.Threading;

/// <summary>
/// An allocation-free auto-reset event for exactly one waiter at a time (a loop, or a flow's single reader or writer).
/// <see cref="Set"/> before a wait makes the next wait complete at once; continuations never run inline with
/// <see cref="Set"/>, so a signaller (the read loop, say) is never hijacked by the code it wakes.
/// </summary>
/// <remarks>
/// Lock-free: one small state word, changed with compare-and-swap. Every flow holds two of these, so a lock object
/// each would be a measurable share of an idle flow's memory, and signalling is on every read and write path.
/// </remarks>
internal sealed class AsyncSignal : IValueTaskSource
{
    private const int Idle = 0;
    private const int Signalled = 1;
    private const int Waiting = 2;

    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private int _state;

    public ValueTask WaitAsync()
    {
        while (true)
        {
            switch (Volatile.Read(ref _state))
            {
                case Signalled:
                    if (Interlocked.CompareExchange(ref _state, Idle, Signalled) == Signalled)
                    {
                        return ValueTask.CompletedTask;
                    }

                    break;
                case Waiting:
                    throw new InvalidOperationException("AsyncSignal supports a single waiter.");
                default:
                    // Nobody touches the core until the state says Waiting, so resetting it first is safe.
                    _core.Reset();
                    if (Interlocked.CompareExchange(ref _state, Waiting, Idle) == Idle)
                    {
                        return new ValueTask(this, _core.Version);
                    }

                    break;
            }
        }
    }

    public void Set()
    {
        while (true)
        {
            switch (Volatile.Read(ref _state))
            {
                case Signalled:
                    return;
                case Waiting:
                    if (Interlocked.CompareExchange(ref _state, Idle, Waiting) == Waiting)
                    {
                        _core.SetResult(true);
                        return;
                    }

                    break;
                default:
                    if (Interlocked.CompareExchange(ref _state, Signalled, Idle) == Idle)
                    {
                        return;
                    }

                    break;
            }
        }
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);
}
