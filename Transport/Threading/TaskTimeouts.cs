namespace FlowOrleans.Transport.Threading;

/// <summary>Waiting for a task with a time limit, without leaving a timer behind.</summary>
internal static class TaskTimeouts
{
    /// <summary>
    /// Whether <paramref name="task"/> ends within <paramref name="timeout"/>. The timer is cancelled as soon as the
    /// task ends: a plain <c>Task.Delay</c> would stay queued for the whole timeout and then fire for nothing, a
    /// thousand timer callbacks a second when connections churn.
    /// </summary>
    public static async Task<bool> CompletesWithinAsync(this Task task, TimeSpan timeout, TimeProvider timeProvider)
    {
        if (task.IsCompleted)
        {
            return true;
        }

        using var grace = new CancellationTokenSource();
        var first = await Task.WhenAny(task, Task.Delay(timeout, timeProvider, grace.Token)).ConfigureAwait(false);
        await grace.CancelAsync().ConfigureAwait(false);
        return first == task;
    }
}
