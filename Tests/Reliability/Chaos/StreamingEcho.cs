using System.Net;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Manager;

namespace FlowOrleans.Tests.Reliability.Chaos;

/// <summary>
/// A flow manager outside the cluster that echoes every flow as the bytes arrive (not once the writer closes, as
/// <c>EchoServer</c> does), so a client can check its data round by round while the flow stays open, and closes its
/// write side when the flow's reader reaches the end. Owns the manager.
/// </summary>
internal sealed class StreamingEcho : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;

    private StreamingEcho(FlowManager manager, IFlowListener listener)
    {
        Manager = manager;
        Listener = listener;
        _serving = Task.Run(() => ServeAsync(_stop.Token));
    }

    public FlowManager Manager { get; }

    public IFlowListener Listener { get; }

    public static async Task<StreamingEcho> StartAsync(FlowManager manager, IPAddress address, CancellationToken cancellationToken)
    {
        var listener = await manager.ListenAsync("tcp", $"{address}:0", cancellationToken);
        return new StreamingEcho(manager, listener);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _serving;
        await Manager.DisposeAsync();
        _stop.Dispose();
    }

    private async Task ServeAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            IFlow flow;
            try
            {
                flow = await Manager.AcceptAsync(ct);
            }
            catch (Exception e) when (e is OperationCanceledException or FlowException)
            {
                return;
            }

            _ = Task.Run(() => EchoAsync(flow, ct), CancellationToken.None);
        }
    }

    private static async Task EchoAsync(IFlow flow, CancellationToken ct)
    {
        await using (flow)
        {
            var buffer = new byte[16 * 1024];
            try
            {
                int n;
                while ((n = await flow.ReadAsync(buffer, ct)) > 0)
                {
                    await flow.WriteAsync(buffer.AsMemory(0, n), ct);
                }

                await flow.CloseWriteAsync(ct);
            }
            catch (Exception e) when (e is FlowException or OperationCanceledException)
            {
                // The flow broke (its silo died, the client went away): the client side reports it, not the echo.
            }
        }
    }
}
