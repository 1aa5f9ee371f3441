using FlowOrleans.Benchmarks.Running;
using FlowOrleans.Benchmarks.Systems;

namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>
/// Flow churn on one connection, the way a client of a request/response server churns: open a flow, write a 128 B
/// request, read the 128 B reply (checked), close the write side and read the server's end of stream; the server
/// end, handed to a handler as a server's accept loop would hand it, reads the request, writes it back, closes its
/// side and reads the client's end of stream. The client never waits for the server to accept unless the system
/// makes it (a channel offer is answered, a TCP connection and TLS handshake complete). <c>open-close-seq</c> runs
/// one such loop: the latency of a flow's whole life, which round trips bound. <c>open-close-32</c> runs 32 at once,
/// as a server with many callers would see: the multiplexer's cost per flow. For systems without multiplexing every
/// flow is a new connection: connect (and handshake), use, close.
/// </summary>
internal sealed class OpenCloseScenario(int loops) : IScenario
{
    /// <summary>Loops at once in the concurrent variant: the same for every system.</summary>
    public const int ManyLoops = 32;

    public string Name => loops == 1 ? "open-close-seq" : $"open-close-{loops}";

    public string Description => loops == 1
        ? "flows opened, 128 B each way, closed to end of stream, one after another on one connection"
        : $"flows opened, 128 B each way, closed to end of stream, {loops} loops at once on one connection";

    public async Task<IReadOnlyList<Measurement>> RunAsync(
        IBenchSystem system, ScenarioSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await system.ConnectAsync(cancellationToken);

        var meter = ResourceUsage.Start();
        var deadline = new Deadline(settings.Duration);
        var runs = new Task<int>[loops];
        for (var i = 0; i < runs.Length; i++)
        {
            runs[i] = loops == 1
                ? RunLoopAsync(connection, deadline, cancellationToken)
                : Task.Run(() => RunLoopAsync(connection, deadline, cancellationToken), cancellationToken);
        }

        var flows = (await Task.WhenAll(runs)).Sum();
        var usage = meter.Stop();

        return
        [
            Metrics.Rate("rate", flows, usage.Elapsed, "flows/s"),
            new("cpu", usage.Cpu.TotalMicroseconds / flows, "µs/flow"),
            new("alloc", (double)usage.AllocatedBytes / flows, "B/flow"),
            Metrics.Connections(connection.TransportConnections),
        ];
    }

    /// <summary>Flows one after another until the deadline; returns once every server handler has finished too.</summary>
    private static async Task<int> RunLoopAsync(IBenchConnection connection, Deadline deadline, CancellationToken cancellationToken)
    {
        var reply = new byte[PingPong.MessageSize];
        var served = new List<Task>();
        long position = 0;
        while (!deadline.HasPassed)
        {
            var flow = await connection.OpenServedFlowAsync(RespondOnceAsync, cancellationToken);
            served.Add(flow.Served);
            await using (flow.Client)
            {
                var stream = flow.Client.Stream;
                await stream.WriteAsync(Payload.At(position, PingPong.MessageSize), cancellationToken);
                await stream.FlushAsync(cancellationToken);
                await stream.ReadExactlyAsync(reply, cancellationToken);
                Payload.Check(position, reply);
                await flow.Client.CloseWriteAsync(cancellationToken);
                await PingPong.ExpectEndOfStreamAsync(flow.Client, reply, cancellationToken);
            }

            position += PingPong.MessageSize;

            // A server handler finishes once the client's end of stream reached it, which the client does not wait
            // for; handlers are collected here, off the flow's critical path, and a failed one fails the run.
            if (served.Find(static t => t.IsFaulted || t.IsCanceled) is { } failed)
            {
                await failed;
            }

            served.RemoveAll(static t => t.IsCompletedSuccessfully);
        }

        await Task.WhenAll(served);
        return (int)(position / PingPong.MessageSize);
    }

    /// <summary>The server's handler: one request, its reply, then end of stream both ways.</summary>
    private static async Task RespondOnceAsync(FlowEnd server, CancellationToken cancellationToken)
    {
        var request = new byte[PingPong.MessageSize];
        await server.Stream.ReadExactlyAsync(request, cancellationToken);
        await server.Stream.WriteAsync(request, cancellationToken);
        await server.CloseWriteAsync(cancellationToken);
        await PingPong.ExpectEndOfStreamAsync(server, request, cancellationToken);
    }
}
