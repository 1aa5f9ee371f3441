using System.Collections.Concurrent;
using System.Security.Cryptography;
using FlowOrleans.Client;
using FlowOrleans.Transport;

namespace FlowOrleans.Tests.Reliability.Chaos;

/// <summary>
/// Client flows through the chaos cluster, <c>loops</c> of them open at any time: each dials the echo peer through a
/// random silo, sends rounds of random chunks and reads each one's echo back before the next (so the flow carries data
/// for as long as it lives, across the faults), closes its write side and expects the end of the stream. A flow
/// either completes with every byte echoed as sent (compared by SHA-256 per round), or fails with an error that says
/// what happened. A byte that differs, an end of stream before all bytes came back, or an operation that hangs past
/// <see cref="OperationBound"/> is a violation: the flow neither delivered nor failed.
/// </summary>
internal sealed class ChaosFlows
{
    /// <summary>
    /// How long one dial, write or read may take before it counts as hung: above <see cref="FlowClient.FailoverRetryLimit"/>
    /// (3 min), for which a dial's choice of silo may wait on a silo that is cut off and not yet declared dead (60-95 s
    /// here), plus Orleans' 30 s response timeout for the last try.
    /// </summary>
    public static readonly TimeSpan OperationBound = TimeSpan.FromMinutes(4);

    private const int MaxChunk = 8 * 1024;

    private readonly FlowClient _client;
    private readonly string _echo;
    private readonly ConcurrentDictionary<string, int> _failures = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _violations = new();
    private readonly ConcurrentQueue<string> _examples = new();
    private long _completed;
    private long _bytes;

    public ChaosFlows(FlowClient client, string echoEndpoint)
    {
        _client = client;
        _echo = echoEndpoint;
    }

    public long Completed => Interlocked.Read(ref _completed);

    /// <summary>Payload bytes that came back as sent (every round of completed and failed flows).</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Failed flows by how they failed: the exception's type and, for a FlowException, its code.</summary>
    public IReadOnlyDictionary<string, int> Failures => _failures;

    public long Failed => _failures.Values.Sum();

    public IReadOnlyCollection<string> Violations => _violations;

    /// <summary>The first message of each kind of failure, for the report.</summary>
    public IReadOnlyCollection<string> Examples => _examples;

    /// <summary>Runs <paramref name="loops"/> loops until <paramref name="stop"/>; each flow under way then finishes.</summary>
    public Task RunAsync(int loops, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, loops).Select(i => Task.Run(() => LoopAsync(new Random(i), stop), CancellationToken.None)));

    private async Task LoopAsync(Random random, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await OneFlowAsync(random, stop);
                Interlocked.Increment(ref _completed);
            }
            catch (OperationCanceledException e)
            {
                // No operation takes the stop token: only an operation's bound cancels it, so the flow hung.
                _violations.Enqueue($"a flow's {e.Data["operation"] ?? "operation"} hung for {OperationBound.TotalSeconds:F0} s: {e.Message}");
            }
            catch (InvalidDataException e)
            {
                _violations.Enqueue(e.Message);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                var kind = e is FlowException f ? $"FlowException({f.Code})" : e.GetType().Name;
                if (_failures.AddOrUpdate(kind, 1, (_, n) => n + 1) == 1)
                {
                    _examples.Enqueue($"{kind}: {e.Message}");
                }

                // A failed dial during a failover would spin without a pause: the cluster needs a moment.
                await Task.Delay(TimeSpan.FromMilliseconds(200), CancellationToken.None);
            }
        }
    }

    private async Task OneFlowAsync(Random random, CancellationToken stop)
    {
        ClusterFlowStream flow;
        using (var dial = new CancellationTokenSource(OperationBound))
        {
            flow = await Tagged("dial", () => _client.DialAsync(_echo, dial.Token));
        }

        await using (flow)
        {
            var rounds = random.Next(5, 40);
            var sent = new byte[MaxChunk];
            var received = new byte[MaxChunk];
            for (var round = 0; round < rounds && !stop.IsCancellationRequested; round++)
            {
                var length = random.Next(1, MaxChunk + 1);
                random.NextBytes(sent.AsSpan(0, length));
                using var bound = new CancellationTokenSource(OperationBound);
                await Tagged($"write through silo {flow.Handle.SiloKey}", async () =>
                {
                    await flow.WriteAsync(sent.AsMemory(0, length), bound.Token);
                    return 0;
                });
                var got = 0;
                while (got < length)
                {
                    var n = await Tagged($"read through silo {flow.Handle.SiloKey}", () => flow.ReadAsync(received.AsMemory(got, length - got), bound.Token).AsTask());
                    if (n == 0)
                    {
                        throw new InvalidDataException($"a flow ended cleanly after {got} of {length} B of round {round} came back: bytes lost without an error");
                    }

                    got += n;
                }

                if (!SHA256.HashData(sent.AsSpan(0, length)).AsSpan().SequenceEqual(SHA256.HashData(received.AsSpan(0, length))))
                {
                    throw new InvalidDataException($"round {round} of a flow came back different ({length} B)");
                }

                Interlocked.Add(ref _bytes, length);
            }

            using var closing = new CancellationTokenSource(OperationBound);
            await flow.CompleteWritesAsync(closing.Token);
            if (await flow.ReadAsync(received, closing.Token) != 0)
            {
                throw new InvalidDataException("the echo sent bytes after every round was read back");
            }
        }
    }

    /// <summary>Runs <paramref name="operation"/>; a cancellation (its bound) carries the operation's name.</summary>
    private static async Task<T> Tagged<T>(string name, Func<Task<T>> operation)
    {
        try
        {
            return await operation();
        }
        catch (OperationCanceledException e)
        {
            e.Data["operation"] = name;
            throw;
        }
    }
}
