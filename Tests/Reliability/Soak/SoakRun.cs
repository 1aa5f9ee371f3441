using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using FlowOrleans.Tests.Connections;
using FlowOrleans.Transport.Flows;

namespace FlowOrleans.Tests.Reliability.Soak;

/// <summary>
/// Churns exchanges (open, transfer checked bytes, close) from several concurrent loops for a given duration, in
/// rounds. After each round the loops stop, the variant waits until its managers are idle again (no connection, flow,
/// buffered byte or pooled buffer left), and the process's footprint is sampled (<see cref="SoakSample"/>). The first
/// rounds are the warm-up (pools, JIT, the thread pool's size); the sample after them is the baseline the later ones
/// must stay near, which is what "flat" means here: a leak of a few hundred bytes a flow, one handle or one thread per
/// connection, shows up over thousands of flows and dozens of connections.
/// </summary>
internal sealed class SoakRun
{
    /// <summary>Minutes each soak variant runs when set (the long run); unset, the tests run their short version.</summary>
    public const string MinutesVariable = "FLOW_SOAK_MINUTES";

    /// <summary>Heap growth allowed over the baseline at any later sample: pools' and caches' jitter, not per-flow state.</summary>
    public const long HeapBound = 4L * 1024 * 1024;

    /// <summary>
    /// How far the lowest heap sample of the last third may sit above the lowest of the first third (from the baseline
    /// on): a steady leak lifts the floor, jitter of pooled arrays does not.
    /// </summary>
    public const long HeapTrendBound = 1L * 1024 * 1024;

    /// <summary>
    /// Heap each thread added since the baseline may hold: the shared array pool keeps arrays per thread, one per size
    /// class up to the transfer sizes, so a worker the thread pool adds carries pooled arrays that are no leak. Seen in
    /// the long run: about 0.4 MiB more heap a thread added.
    /// </summary>
    public const long HeapPerAddedThread = 512L * 1024;

    /// <summary>File descriptors allowed over the baseline (a socket or two mid-close); a leak is one per connection.</summary>
    public const int HandleBound = 16;

    /// <summary>
    /// Threads allowed over the baseline: the thread pool may add workers on a busy machine and retires them only after
    /// idling; a leak is one per connection or flow.
    /// </summary>
    public const int ThreadBound = 24;

    /// <summary>How long a quiet point may take to come: connections expire idle, flows close, on a busy machine.</summary>
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long one exchange (at most a few hundred KiB each way) may take on a busy machine before it counts as hung.</summary>
    private static readonly TimeSpan ExchangeTimeout = TimeSpan.FromSeconds(60);

    private const int Rounds = 12;
    private const int WarmUpRounds = 3;

    private readonly ConcurrentDictionary<IManagedConnection, byte> _connections = new();
    private readonly ConcurrentQueue<string> _violations = new();
    private readonly List<SoakSample> _samples = [];
    private readonly TimeSpan _duration;
    private readonly int _loops;
    private long _exchanges;
    private long _bytes;

    public SoakRun(TimeSpan duration, int loops)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(loops, 1);
        _duration = duration;
        _loops = loops;
    }

    public IReadOnlyList<SoakSample> Samples => _samples;

    public long Exchanges => Interlocked.Read(ref _exchanges);

    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>
    /// How long the soak churns: <see cref="MinutesVariable"/> minutes when set, else <paramref name="shortDuration"/>.
    /// </summary>
    public static TimeSpan Duration(TimeSpan shortDuration) =>
        double.TryParse(Environment.GetEnvironmentVariable(MinutesVariable), NumberStyles.Float, CultureInfo.InvariantCulture, out var minutes) && minutes > 0
            ? TimeSpan.FromMinutes(minutes)
            : shortDuration;

    /// <summary>A bound on the whole run that only a hang reaches: the churn, plus generous time to settle each round.</summary>
    public TimeSpan HangBound => (_duration * 2) + (SettleTimeout * Rounds);

    /// <summary>Remembers a connection an exchange used, so the next quiet point checks it let go of everything.</summary>
    public void Track(IManagedConnection connection) => _connections.TryAdd(connection, 0);

    /// <summary>
    /// Runs the soak. <paramref name="exchange"/> is one open, transfer and close; it returns the payload bytes it
    /// moved and throws when anything went wrong (every exchange must succeed: nothing here injects faults).
    /// <paramref name="settle"/> waits until the variant's own gauges are back at idle (it fails the test if they
    /// never are) and may <see cref="Track"/> the connections it sees before they close.
    /// </summary>
    public async Task RunAsync(
        Func<Random, CancellationToken, Task<long>> exchange,
        Func<CancellationToken, Task> settle,
        Action<string> log,
        CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var round = _duration / Rounds;
        for (var r = 0; r < Rounds; r++)
        {
            using var churn = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            churn.CancelAfter(round);
            await Task.WhenAll(Enumerable.Range(0, _loops).Select(loop => LoopAsync(exchange, new Random((r * 1000) + loop), churn.Token, cancellationToken)));
            Assert.True(_violations.IsEmpty, $"round {r}: {string.Join("; ", _violations.Take(5))}");

            using (var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                bound.CancelAfter(SettleTimeout);
                await settle(bound.Token);
                await SettleConnectionsAsync(bound.Token);
            }

            var sample = SoakSample.Take(clock.Elapsed, Exchanges, Bytes);
            _samples.Add(sample);
            log((r < WarmUpRounds - 1 ? "warm-up  " : r == WarmUpRounds - 1 ? "baseline " : "sample   ") + sample);
        }

        AssertFlat();
    }

    private async Task LoopAsync(Func<Random, CancellationToken, Task<long>> exchange, Random random, CancellationToken churn, CancellationToken cancellationToken)
    {
        // The churn token only stops new exchanges: one under way finishes, so every round ends at a quiet point.
        while (!churn.IsCancellationRequested)
        {
            // Each exchange has a bound of its own that only a hang reaches, so a hang fails the round saying so
            // rather than running into the whole run's bound (or the test host's).
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bound.CancelAfter(ExchangeTimeout);
            try
            {
                Interlocked.Add(ref _bytes, await exchange(random, bound.Token));
                Interlocked.Increment(ref _exchanges);
            }
            catch (OperationCanceledException) when (bound.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                _violations.Enqueue($"exchange {Exchanges} hung: not done after {ExchangeTimeout.TotalSeconds} s");
                return;
            }
            catch (Exception e)
            {
                _violations.Enqueue($"exchange {Exchanges} failed: {e.GetType().Name}: {e.Message}");
                return;
            }
        }
    }

    /// <summary>Every connection seen since the last quiet point has closed and holds no flow, byte, window, buffer or loop.</summary>
    private async Task SettleConnectionsAsync(CancellationToken cancellationToken)
    {
        foreach (var connection in _connections.Keys)
        {
            var c = connection.Counters;
            await ConnectionTestKit.WaitUntilAsync(() => connection.Closed.IsCompleted, () => $"a {connection.RemoteEndpoint} connection never closed", cancellationToken);
            await ConnectionTestKit.WaitUntilAsync(
                () => c is { RunningLoops: 0, OpenFlows: 0, BufferedBytes: 0, ReservedWindowBytes: 0, OutstandingBuffers: 0, QueuedControlBytes: 0 },
                () => $"a closed connection kept {c.RunningLoops} loops, {c.OpenFlows} flows, {c.BufferedBytes} B buffered, " +
                    $"{c.ReservedWindowBytes} B of windows, {c.OutstandingBuffers} record buffers, {c.QueuedControlBytes} B of control queued",
                cancellationToken);
        }

        // Held no longer than checked: the soak itself must not keep old connections alive.
        _connections.Clear();
    }

    private void AssertFlat()
    {
        var baseline = _samples[WarmUpRounds - 1];
        var after = _samples.Skip(WarmUpRounds - 1).ToList();
        var all = string.Join(Environment.NewLine, _samples);
        Assert.True(Exchanges > 0, "no exchange completed");
        foreach (var s in after)
        {
            var heapBound = HeapBound + (Math.Max(0, s.Threads - baseline.Threads) * HeapPerAddedThread);
            Assert.True(s.HeapBytes - baseline.HeapBytes <= heapBound, $"heap grew {s.HeapBytes - baseline.HeapBytes} B over the baseline (bound {heapBound}):{Environment.NewLine}{all}");
            Assert.True(s.Handles - baseline.Handles <= HandleBound, $"{s.Handles - baseline.Handles} handles over the baseline (bound {HandleBound}):{Environment.NewLine}{all}");
            Assert.True(s.Threads - baseline.Threads <= ThreadBound, $"{s.Threads - baseline.Threads} threads over the baseline (bound {ThreadBound}):{Environment.NewLine}{all}");
        }

        var third = Math.Max(1, after.Count / 3);
        var early = after.Take(third).MinBy(s => s.HeapBytes)!;
        var late = after.TakeLast(third).MinBy(s => s.HeapBytes)!;
        var trendBound = HeapTrendBound + (Math.Max(0, late.Threads - early.Threads) * HeapPerAddedThread);
        Assert.True(
            late.HeapBytes - early.HeapBytes <= trendBound,
            $"the heap's floor rose {late.HeapBytes - early.HeapBytes} B from the first third to the last (bound {trendBound}):{Environment.NewLine}{all}");
    }
}
