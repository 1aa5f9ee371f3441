using FlowOrleans.Client;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.Transport;
using Microsoft.Extensions.Time.Testing;
using Orleans.Runtime;

namespace FlowOrleans.Tests.Cluster;

/// <summary>
/// How FlowClient's calls meet a failover (issue 19 item 8): reads retry through the window in which a dead silo is not
/// yet declared dead, within a bound; other calls fail at once with a typed error that says the cluster is failing over.
/// The process test <c>SiloProcessClusterTests</c> shows the same on a killed silo.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class ClusterFailoverTests
{
    [Fact]
    public async Task AReadThatMeetsAGoneSiloIsRetriedUntilItSucceeds()
    {
        var calls = 0;
        var result = await ClusterFailover.RetryAsync(
            _ => ++calls < 3 ? Task.FromException<int>(new SiloUnavailableException("the silo is gone")) : Task.FromResult(42),
            "reading",
            TimeSpan.FromMinutes(1),
            TimeProvider.System,
            TestContext.Current.CancellationToken);

        Assert.Equal(42, result);
        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task PastItsBoundARetriedReadFailsSayingTheClusterIsFailingOver()
    {
        var time = new FakeTimeProvider();
        var calls = 0;
        var read = ClusterFailover.RetryAsync<int>(
            _ =>
            {
                calls++;
                throw new SiloUnavailableException("the silo is gone");
            },
            "reading the pins",
            TimeSpan.FromSeconds(5),
            time,
            TestContext.Current.CancellationToken);

        // Pauses double from 100 ms up to 2 s: calls at 0, 0.1, 0.3, 0.7, 1.5 and 3.1 s, and the next pause would end
        // past 5 s. The clock moves on in small steps while the test runs; a slow continuation only sees a later clock,
        // so fewer calls, never more, and never fewer than two (the first failure comes at once).
        while (!read.IsCompleted)
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Yield();
        }

        var error = await Assert.ThrowsAsync<FlowException>(() => read);
        Assert.Equal(FlowErrorCode.Network, error.Code);
        Assert.Contains("failing over", error.Message, StringComparison.Ordinal);
        Assert.Contains("reading the pins", error.Message, StringComparison.Ordinal);
        Assert.IsType<SiloUnavailableException>(error.InnerException);
        Assert.InRange(calls, 2, 6);
    }

    [Fact]
    public async Task OtherErrorsAreNeitherRetriedNorChanged()
    {
        var calls = 0;
        var refused = new FlowException(FlowErrorCode.NotTrusted, "no");
        var error = await Assert.ThrowsAsync<FlowException>(() => ClusterFailover.RetryAsync<int>(
            _ =>
            {
                calls++;
                throw refused;
            },
            "reading",
            TimeSpan.FromMinutes(1),
            TimeProvider.System,
            TestContext.Current.CancellationToken));

        Assert.Same(refused, error);
        Assert.Equal(1, calls);
        Assert.Same(refused, await Assert.ThrowsAsync<FlowException>(() => ClusterFailover.OnceAsync(Task.FromException<int>(refused), "dialing")));
    }

    [Fact]
    public async Task ACallThatMustNotBeRepeatedFailsAtOnceSayingTheClusterIsFailingOver()
    {
        var error = await Assert.ThrowsAsync<FlowException>(() =>
            ClusterFailover.OnceAsync(Task.FromException<int>(new SiloUnavailableException("the silo is gone")), "the dial to tcp/x"));

        Assert.Equal(FlowErrorCode.Network, error.Code);
        Assert.Contains("failing over", error.Message, StringComparison.Ordinal);
        Assert.Contains("may or may not have taken effect", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CancellingStopsTheRetriesAtOnce()
    {
        using var cts = new CancellationTokenSource();
        var read = ClusterFailover.RetryAsync<int>(
            _ => throw new SiloUnavailableException("the silo is gone"),
            "reading",
            TimeSpan.FromMinutes(1),
            new FakeTimeProvider(),
            cts.Token);

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
    }

    [Fact]
    public async Task AReadThatTimesOutOnASiloCutOffIsRetriedAndACallThatMustNotBeRepeatedSaysItMayHaveTakenEffect()
    {
        // Found by the chaos test: a silo whose link went down neither answers nor refuses, and until membership
        // declared it dead the management grain on it let GetSilosAsync throw Orleans' bare TimeoutException.
        var calls = 0;
        var result = await ClusterFailover.RetryAsync(
            _ => ++calls < 2 ? Task.FromException<int>(new TimeoutException("Response did not arrive on time in 00:00:30")) : Task.FromResult(7),
            "listing the silos",
            TimeSpan.FromMinutes(1),
            TimeProvider.System,
            TestContext.Current.CancellationToken);
        Assert.Equal(7, result);
        Assert.Equal(2, calls);

        var error = await Assert.ThrowsAsync<FlowException>(() =>
            ClusterFailover.OnceAsync(Task.FromException<int>(new TimeoutException("Response did not arrive on time in 00:00:30")), "pinning 'p'"));
        Assert.Equal(FlowErrorCode.Network, error.Code);
        Assert.Contains("may or may not have taken effect", error.Message, StringComparison.Ordinal);
        Assert.IsType<TimeoutException>(error.InnerException);
    }

    [Fact]
    public async Task AStatusReadLeavesOutASiloThatLeftBetweenBeingListedAndBeingAsked()
    {
        // Found by the chaos test: a SIGTERM'd silo still listed as active made GetStatusAsync fail with BadState.
        var status = new SiloFlowStatus("a", default, [], [], 0, []);
        var statuses = await FlowClient.StatusOfAsync(
            ["a", "gone"],
            silo => silo == "a" ? Task.FromResult(status) : Task.FromException<SiloFlowStatus>(new FlowException(FlowErrorCode.BadState, "Silo gone is not an active member of the cluster.")));
        Assert.Equal([status], statuses);

        // Any other failure is the caller's to see.
        await Assert.ThrowsAsync<FlowException>(() => FlowClient.StatusOfAsync(
            ["a"], _ => Task.FromException<SiloFlowStatus>(new FlowException(FlowErrorCode.NotTrusted, "no"))));
    }
}
