using System.Collections.Concurrent;
using System.Diagnostics;
using FlowOrleans.Transport.Protocols.Faults;
using Xunit.Sdk;

namespace FlowOrleans.Tests.Reliability;

/// <summary>
/// Issue 19, item 1: flows over a <see cref="FaultProtocol"/> that cuts, resets, flips, splits, delays and stalls the
/// byte stream. Every exchange either completes with exactly the bytes sent, both ways (checked byte for byte and by
/// SHA-256), or fails with Aborted or Network (a dial also with the handshake's codes) within the case's bound; never
/// a hang, never wrong or missing bytes handed to the application as if they were right; afterwards no loop, pump,
/// flow, buffer or window is left. Faults that lose nothing (split, delay, a stall that ends) must not fail anything.
/// <c>FLOW_FAULT_MATRIX=long</c> runs the exhaustive variant (docs/reliability.md).
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class FaultMatrixTests(ITestOutputHelper output)
{
    // A case that does not end within this is a hang. Lossy cases end by the short handshake and channel timeouts
    // below at the latest (3 s each, plus the 2 s close grace); the rest is slack for a loaded machine.
    private static readonly TimeSpan CaseBound = TimeSpan.FromSeconds(60);

    public static TheoryData<string> Families => [.. FaultCase.Families];

    [Theory]
    [MemberData(nameof(Families))]
    public async Task EveryExchangeEndsWithTheBytesSentOrAnAllowedError(string family)
    {
        var cases = FaultCase.Of(family).ToArray();
        var problems = new ConcurrentQueue<string>();
        var totals = new ConcurrentDictionary<string, int>();
        var clock = Stopwatch.StartNew();
        using var gate = new SemaphoreSlim(FaultCase.LongRun ? Environment.ProcessorCount : 4);
        await Task.WhenAll(cases.Select(async c =>
        {
            await gate.WaitAsync();
            try
            {
                await RunCaseAsync(c, problems, totals);
            }
            finally
            {
                gate.Release();
            }
        }));

        output.WriteLine($"{family}: {cases.Length} cases in {clock.Elapsed.TotalSeconds:F1} s; " +
            string.Join(", ", totals.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key} {t.Value}")));
        Assert.True(problems.IsEmpty, string.Join(Environment.NewLine, problems));
    }

    private static ulong Seed(int exchange) => (ulong)(exchange + 1) * 7919;

    private static async Task RunCaseAsync(FaultCase c, ConcurrentQueue<string> problems, ConcurrentDictionary<string, int> totals)
    {
        var faulted = 0;
        var run = await FaultRun.StartAsync(
            info => info.Dialed == c.OnDialer && Interlocked.Exchange(ref faulted, 1) == 0 ? c.Plan : FaultPlan.None,
            connection: o =>
            {
                if (!c.Lossless)
                {
                    o.HandshakeTimeout = TimeSpan.FromSeconds(3);
                    o.ChannelTimeout = TimeSpan.FromSeconds(3);
                }
            });
        try
        {
            // Lossless faults carry the exchanges at once; under lossy ones they go one after another, so the first
            // completes before a fault late in the stream and the later ones show the client dialing afresh.
            var all = c.Lossless
                ? Task.WhenAll(Enumerable.Range(0, c.Flows).Select(i => run.ExchangeAsync(Seed(i), c.RequestBytes, c.ReplyBytes)))
                : Task.Run(async () =>
                {
                    for (var i = 0; i < c.Flows; i++)
                    {
                        await run.ExchangeAsync(Seed(i), c.RequestBytes, c.ReplyBytes);
                    }
                });
            if (await Task.WhenAny(all, Task.Delay(CaseBound)) != all)
            {
                problems.Enqueue($"{c}: not ended within {CaseBound} (a hang)");
                return;
            }

            if (c.Lossless && run.Completed != c.Flows)
            {
                problems.Enqueue($"{c}: a fault that loses nothing failed {c.Flows - run.Completed} of {c.Flows} exchanges: " +
                    string.Join(", ", run.Failures.Select(f => $"{f.Key} {f.Value}")));
            }

            totals.AddOrUpdate("completed", run.Completed, (_, n) => n + run.Completed);
            foreach (var (key, count) in run.Failures)
            {
                totals.AddOrUpdate(key, count, (_, n) => n + count);
            }

            foreach (var violation in run.Violations)
            {
                problems.Enqueue($"{c}: {violation}");
            }

            await run.AssertNothingLeftAsync();
        }
        catch (Exception e) when (e is XunitException or TimeoutException)
        {
            problems.Enqueue($"{c}: {e.Message}");
        }
        finally
        {
            await run.DisposeAsync();
        }
    }
}
