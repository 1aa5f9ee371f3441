using FlowOrleans.Transport;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Manager;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Cluster;

/// <summary>A plain FlowManager outside the cluster that echoes each flow once its writer closes; owns the manager.</summary>
internal sealed class EchoServer : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly Task _serving;

    private EchoServer(FlowManager manager, IFlowListener listener, CancellationToken ct)
    {
        Manager = manager;
        Listener = listener;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _serving = ServeAsync(_stop.Token);
    }

    public FlowManager Manager { get; }

    public IFlowListener Listener { get; }

    /// <summary>The endpoint's printed form.</summary>
    public string Endpoint => Listener.Endpoint.ToString();

    /// <summary>Listens on a free loopback port with <paramref name="manager"/>, which the server then owns.</summary>
    public static async Task<EchoServer> StartAsync(FlowManager manager, CancellationToken ct)
    {
        var listener = await manager.ListenAsync("tcp", "127.0.0.1:0", ct);
        return new EchoServer(manager, listener, ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _serving;
        await Manager.DisposeAsync();
        _stop.Dispose();
    }

    private Task ServeAsync(CancellationToken ct) => Task.Run(async () =>
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

            _ = Task.Run(async () =>
            {
                await using (flow)
                {
                    var data = await ReadToEndAsync(flow);
                    await flow.WriteAsync(data);
                    await flow.CloseWriteAsync();
                }
            });
        }
    });
}
