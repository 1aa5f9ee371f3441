namespace FlowOrleans.Grains.Hosting;

/// <summary>
/// The background tasks one part of the silo's transport runs between its lifecycle start and stop, under one
/// cancellation source. Stopping cancels them and waits for them, so a part never outlives its stop.
/// </summary>
internal sealed class BackgroundWork : IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private readonly List<Task> _tasks = [];

    /// <summary>Cancelled once the part stops.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>Runs <paramref name="work"/> on the thread pool until it ends or the part stops.</summary>
    public void Run(Func<CancellationToken, Task> work)
    {
        var task = Task.Run(() => work(_stopping.Token), CancellationToken.None);
        lock (_lock)
        {
            _tasks.Add(task);
        }
    }

    /// <summary>Runs <paramref name="tick"/> every <paramref name="period"/> of <paramref name="time"/> until the part stops.</summary>
    public void RunEvery(TimeSpan period, TimeProvider time, Func<CancellationToken, Task> tick)
    {
        // Made here rather than in the loop, so the first period starts with the call, not whenever the pool runs it.
        var timer = new PeriodicTimer(period, time);
        Run(async stopping =>
        {
            using (timer)
            {
                try
                {
                    while (await timer.WaitForNextTickAsync(stopping))
                    {
                        await tick(stopping);
                    }
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                }
            }
        });
    }

    /// <summary>Cancels the work and waits for it, or until <paramref name="cancellationToken"/> gives up waiting.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        Task[] tasks;
        lock (_lock)
        {
            tasks = [.. _tasks];
        }

        try
        {
            await Task.WhenAll(tasks).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose() => _stopping.Dispose();
}
