using System.Threading.Tasks.Sources;

namespace FlowOrleans.Transport.Connections;

/// <summary>
/// An allocation-free auto-reset event for exactly one waiter at a time (a loop, or a flow's single reader or writer).
/// <see cref="Set"/> before a wait makes the next wait complete at once; continuations never run inline with
/// <see cref="Set"/>, so a signaller (the read loop, say) is never hijacked by the code it wakes.
/// </summary>
internal sealed class AsyncSignal : IValueTaskSource
{
    private readonly Lock _lock = new();
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private bool _set;
    private bool _waiting;

    public ValueTask WaitAsync()
    {
        lock (_lock)
        {
            if (_waiting)
            {
                throw new InvalidOperationException("AsyncSignal supports a single waiter.");
            }

            if (_set)
            {
                _set = false;
                return ValueTask.CompletedTask;
            }

            _core.Reset();
            _waiting = true;
            return new ValueTask(this, _core.Version);
        }
    }

    public void Set()
    {
        lock (_lock)
        {
            if (_waiting)
            {
                _waiting = false;
                _core.SetResult(true);
            }
            else
            {
                _set = true;
            }
        }
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);
}
