using FlowOrleans.Grains.Hosting;
using Microsoft.Extensions.Time.Testing;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Cluster;

/// <summary>A silo part's periodic work runs once a period of its clock, and ends, awaited, when the part stops.</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class BackgroundWorkTests
{
    [Fact]
    public async Task PeriodicWorkRunsOncePerPeriodAndEndsWithTheStop()
    {
        var time = new FakeTimeProvider();
        using var work = new BackgroundWork();
        var ticks = 0;
        var stopped = false;
        work.RunEvery(TimeSpan.FromSeconds(10), time, async stopping =>
        {
            Interlocked.Increment(ref ticks);
            try
            {
                await Task.Delay(Timeout.Infinite, stopping);
            }
            finally
            {
                Volatile.Write(ref stopped, true);
            }
        });

        time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(0, Volatile.Read(ref ticks));
        time.Advance(TimeSpan.FromSeconds(1));
        await WaitUntilAsync(() => Volatile.Read(ref ticks) == 1);

        // A tick still running holds the next; the stop cancels it and returns only once it ended.
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(1, Volatile.Read(ref ticks));
        await work.StopAsync(new CancellationTokenSource(TestTimeout).Token);
        Assert.True(Volatile.Read(ref stopped));
    }

    [Fact]
    public async Task EachPeriodRunsTheWorkAgain()
    {
        var time = new FakeTimeProvider();
        using var work = new BackgroundWork();
        var ticks = 0;
        work.RunEvery(TimeSpan.FromSeconds(1), time, _ =>
        {
            Interlocked.Increment(ref ticks);
            return Task.CompletedTask;
        });

        for (var i = 1; i <= 3; i++)
        {
            // A tick that comes while the last one still runs is kept for the loop's next wait, not lost.
            time.Advance(TimeSpan.FromSeconds(1));
            var expected = i;
            await WaitUntilAsync(() => Volatile.Read(ref ticks) == expected);
        }

        await work.StopAsync(new CancellationTokenSource(TestTimeout).Token);
        Assert.Equal(3, Volatile.Read(ref ticks));
    }
}
