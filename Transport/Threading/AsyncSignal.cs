using System.Diagnostics;
using System.Threading.Tasks.Sources;

namespace FlowOrleans.Transport.Threading;

/// <summary>
/// An allocation-free auto-reset event for exactly one waiter at a time (a loop, or a flow's single reader or writer).
/// <see cref="Set"/> before a wait makes the next wait complete at once; continuations never run inline with
/// <see cref="Set"/>, so a signaller (the read loop, say) is never hijacked by the code it wakes.
/// </summary>
/// <remarks>
/// Lock-free: one small state word, changed with compare-and-swap. Every flow holds two of these, so they are kept
/// small (40 bytes): instead of a <see cref="ManualResetValueTaskSourceCore{TResult}"/>, which carries a result, an
/// error and a captured context the signal never needs, it keeps just the waiter's continuation, and forgets it as
/// soon as the waiter took the result, so an idle flow does not keep the last waiter's state machine alive.
/// </remarks>
internal sealed class AsyncSignal : IValueTaskSource
{
    private const int Idle = 0;
    private const int Signalled = 1;
    private const int Waiting = 2;

    // Stands for "completed" in _continuation: a wait completed before or after its continuation was registered.
    private static readonly Action<object?> Completed = static _ => { };

    private Action<object?>? _continuation;
    private object? _continuationState;
    private int _state;
    private short _version;

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
                    // Nobody touches the continuation until the state says Waiting, so resetting it first is safe.
                    Reset();
                    if (Interlocked.CompareExchange(ref _state, Waiting, Idle) == Idle)
                    {
                        return new ValueTask(this, _version);
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
                        Complete();
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

    private void Reset()
    {
        _continuation = null;
        _continuationState = null;
        _version++;
    }

    /// <summary>Completes the current wait: runs its continuation, if one is registered yet, on the thread pool.</summary>
    private void Complete()
    {
        var continuation = Interlocked.Exchange(ref _continuation, Completed);
        if (continuation is not null)
        {
            Debug.Assert(!ReferenceEquals(continuation, Completed), "A wait completed twice.");
            Schedule(continuation, _continuationState);
        }
    }

    private static void Schedule(Action<object?> continuation, object? state) =>
        ThreadPool.UnsafeQueueUserWorkItem(continuation, state, preferLocal: true);

    // A token behind the current version belongs to a wait that already completed: the version moves only when a wait
    // is consumed or a new one starts, and a new one starts only once no wait is pending. Its waiter may resume after
    // the next wait began, and then finds its wait complete rather than someone else's. (A flow no longer lets a second
    // write wait before the first one's writer resumed, which is how this was met: see FlowSendState.BeginWrite.)
    private bool IsEarlierWait(short token) => token != _version;

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token)
    {
        if (IsEarlierWait(token))
        {
            return ValueTaskSourceStatus.Succeeded;
        }

        return ReferenceEquals(Volatile.Read(ref _continuation), Completed) ? ValueTaskSourceStatus.Succeeded : ValueTaskSourceStatus.Pending;
    }

    void IValueTaskSource.GetResult(short token)
    {
        if (IsEarlierWait(token))
        {
            return;
        }

        if (!ReferenceEquals(Volatile.Read(ref _continuation), Completed))
        {
            throw new InvalidOperationException("The signal's wait has not completed.");
        }

        // Forget the continuation now rather than at the next wait. Only the waiter, who is done, could touch these
        // fields here: Set does so only while someone waits.
        Reset();
    }

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        if ((flags & (ValueTaskSourceOnCompletedFlags.FlowExecutionContext | ValueTaskSourceOnCompletedFlags.UseSchedulingContext)) != 0)
        {
            // Our own awaits ask for neither (ConfigureAwait(false), unsafe registration); honour them anyway, at the cost
            // of one object, for whoever else awaits a signal.
            state = new ContextualContinuation(continuation, state, flags);
            continuation = ContextualContinuation.Run;
        }

        if (IsEarlierWait(token))
        {
            Schedule(continuation, state);
            return;
        }

        _continuationState = state;
        var previous = Interlocked.CompareExchange(ref _continuation, continuation, null);
        if (previous is not null)
        {
            // Completed already.
            Debug.Assert(ReferenceEquals(previous, Completed), "A second continuation was registered.");
            Schedule(continuation, state);
        }
    }

    /// <summary>A continuation that asked for its execution context or its scheduling context.</summary>
    private sealed class ContextualContinuation
    {
        public static readonly Action<object?> Run = static s => ((ContextualContinuation)s!).Invoke();

        private readonly Action<object?> _continuation;
        private readonly object? _state;
        private readonly ExecutionContext? _executionContext;
        private readonly SynchronizationContext? _synchronizationContext;
        private readonly TaskScheduler? _scheduler;

        public ContextualContinuation(Action<object?> continuation, object? state, ValueTaskSourceOnCompletedFlags flags)
        {
            _continuation = continuation;
            _state = state;
            if ((flags & ValueTaskSourceOnCompletedFlags.FlowExecutionContext) != 0)
            {
                _executionContext = ExecutionContext.Capture();
            }

            if ((flags & ValueTaskSourceOnCompletedFlags.UseSchedulingContext) != 0)
            {
                var context = SynchronizationContext.Current;
                if (context is not null && context.GetType() != typeof(SynchronizationContext))
                {
                    _synchronizationContext = context;
                }
                else if (TaskScheduler.Current != TaskScheduler.Default)
                {
                    _scheduler = TaskScheduler.Current;
                }
            }
        }

        private void Invoke()
        {
            if (_synchronizationContext is { } context)
            {
                context.Post(static s => ((ContextualContinuation)s!).InvokeInContext(), this);
            }
            else if (_scheduler is { } scheduler)
            {
                Task.Factory.StartNew(static s => ((ContextualContinuation)s!).InvokeInContext(), this,
                    CancellationToken.None, TaskCreationOptions.DenyChildAttach, scheduler);
            }
            else
            {
                InvokeInContext();
            }
        }

        private void InvokeInContext()
        {
            if (_executionContext is { } executionContext)
            {
                ExecutionContext.Run(executionContext, static s => ((ContextualContinuation)s!).InvokeDirect(), this);
            }
            else
            {
                InvokeDirect();
            }
        }

        private void InvokeDirect() => _continuation(_state);
    }
}
