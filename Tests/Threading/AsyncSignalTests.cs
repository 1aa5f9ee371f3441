using System.Runtime.CompilerServices;
using FlowOrleans.Transport.Threading;

namespace FlowOrleans.Tests.Threading;

/// <summary>
/// The single-waiter signal every flow holds two of: a set before the wait completes it at once, continuations run
/// off the setter's thread with the context they asked for, and a finished wait keeps nothing of its waiter alive.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class AsyncSignalTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AWaitThatCompletedStaysCompleteWhenTheNextWaitBeginsBeforeItsWaiterResumes()
    {
        // A flow's write completes, and before its writer resumes, disposal starts the close's wait on the same signal
        // (seen in the chaos test as InvalidOperationException "The signal's wait was already consumed").
        var signal = new AsyncSignal();
        var first = signal.WaitAsync();
        signal.Set();
        var next = signal.WaitAsync();

        Assert.True(first.IsCompletedSuccessfully);
        await first;
        Assert.False(next.IsCompleted);
        signal.Set();
        await next.AsTask().WaitAsync(Timeout);
    }

    [Fact]
    public async Task ASetBeforeTheWaitCompletesItAtOnceAndOnlyOnce()
    {
        var signal = new AsyncSignal();
        signal.Set();
        signal.Set();
        var first = signal.WaitAsync().AsTask();
        Assert.True(first.IsCompletedSuccessfully);

        var second = signal.WaitAsync().AsTask();
        Assert.False(second.IsCompleted);
        signal.Set();
        await second.WaitAsync(Timeout);
    }

    [Fact]
    public async Task ManyWaitsAndSetsFromAnotherThreadAllComplete()
    {
        var signal = new AsyncSignal();
        var acknowledged = new AsyncSignal();
        var setter = Task.Run(async () =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                signal.Set();
                await acknowledged.WaitAsync();
            }
        });

        for (var i = 0; i < 10_000; i++)
        {
            await signal.WaitAsync();
            acknowledged.Set();
        }

        await setter.WaitAsync(Timeout);
    }

    [Fact]
    public async Task AContinuationThatAsksForItsExecutionContextGetsIt()
    {
        var signal = new AsyncSignal();
        var local = new AsyncLocal<string>();
        var seen = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);

        local.Value = "registered";
#pragma warning disable CA2012 // the awaiter is the point: its OnCompleted is what asks for the context
        var awaiter = signal.WaitAsync().GetAwaiter();
#pragma warning restore CA2012
        awaiter.OnCompleted(() => seen.SetResult(local.Value)); // the safe OnCompleted flows the execution context
        local.Value = "changed";

        await Task.Run(signal.Set);
        Assert.Equal("registered", await seen.Task.WaitAsync(Timeout));
    }

    [Fact]
    public async Task AFinishedWaitKeepsNothingOfItsWaiterAlive()
    {
        var signal = new AsyncSignal();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiter = Register(signal, done);

        signal.Set();
        await done.Task.WaitAsync(Timeout);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(waiter.IsAlive);
    }

    /// <summary>Registers a continuation whose closure holds an object, and returns a weak reference to that object.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference Register(AsyncSignal signal, TaskCompletionSource done)
    {
        var state = new byte[1024];
#pragma warning disable CA2012 // consumed once, by the continuation's GetResult, as an await would
        var awaiter = signal.WaitAsync().ConfigureAwait(false).GetAwaiter();
#pragma warning restore CA2012
        awaiter.UnsafeOnCompleted(() =>
        {
            GC.KeepAlive(state);
            awaiter.GetResult();
            done.SetResult();
        });
        return new WeakReference(state);
    }
}
