using FlowOrleans.GrainInterfaces;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Streams;

namespace FlowOrleans.Grains.Hosting;

/// <summary>
/// Accepts the flows peers open to the silo's transport and announces each (<see cref="FlowHandle"/>) on the stream
/// <c>flow-accept/ListenName</c>, where acceptors claim it. The silo is registered for the peer's routing ID before
/// the announcement, so whoever sees the flow can already reach the peer; a flow that could not be announced is closed.
/// </summary>
internal sealed partial class AcceptAnnouncer : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private readonly SiloTransport _transport;
    private readonly HostedFlows _flows;
    private readonly RoutingIdRegistrar _routes;
    private readonly IClusterClient _clusterClient;
    private readonly FlowOrleansOptions _options;
    private readonly ILogger _logger;
    private readonly BackgroundWork _work = new();

    public AcceptAnnouncer(
        SiloTransport transport,
        HostedFlows flows,
        RoutingIdRegistrar routes,
        IClusterClient clusterClient,
        IOptions<FlowOrleansOptions> options,
        ILogger<AcceptAnnouncer> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _transport = transport;
        _flows = flows;
        _routes = routes;
        _clusterClient = clusterClient;
        _options = options.Value;
        _logger = logger;
    }

    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(AcceptAnnouncer), SiloFlowStages.Loops, StartAsync, _work.StopAsync);
    }

    public void Dispose() => _work.Dispose();

    private Task StartAsync(CancellationToken cancellationToken)
    {
        _work.Run(AcceptLoopAsync);
        return Task.CompletedTask;
    }

    private async Task AcceptLoopAsync(CancellationToken cancellationToken)
    {
        var stream = _clusterClient.GetStreamProvider(_options.StreamProvider)
            .GetStream<FlowHandle>(StreamId.Create(FlowStreamNames.AcceptNamespace, _options.ListenName));
        while (!cancellationToken.IsCancellationRequested)
        {
            IFlow flow;
            try
            {
                flow = await _transport.Manager.AcceptAsync(cancellationToken);
            }
            catch (Exception e) when (e is OperationCanceledException or FlowException && cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (FlowException e)
            {
                LogAcceptFailed(_logger, e, _transport.SiloKey);
                continue;
            }

            var hosted = _flows.Add(flow);
            try
            {
                await _routes.RegisterAsync(flow.Connection);
                await stream.OnNextAsync(hosted.Handle);
                LogAnnounced(_logger, _transport.SiloKey, hosted.Handle.FlowId, hosted.Handle.RemoteEndpoint, _options.ListenName);
                _ = _flows.CloseUnlessClaimedAsync(hosted);
            }
#pragma warning disable CA1031 // A failed announcement must close that one flow, never end the accept loop.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogAnnounceFailed(_logger, e, _transport.SiloKey, hosted.Handle.FlowId);
                await _flows.CloseAsync(hosted.Handle.FlowId);
            }
        }
    }

    [LoggerMessage(1, LogLevel.Debug, "Silo {Silo} announced flow {FlowId} from {Remote} on '{Name}'")]
    private static partial void LogAnnounced(ILogger logger, string silo, Guid flowId, Endpoint remote, string name);

    [LoggerMessage(2, LogLevel.Warning, "Silo {Silo} could not accept a flow")]
    private static partial void LogAcceptFailed(ILogger logger, Exception exception, string silo);

    [LoggerMessage(3, LogLevel.Warning, "Silo {Silo} could not announce flow {FlowId}; closing it")]
    private static partial void LogAnnounceFailed(ILogger logger, Exception exception, string silo, Guid flowId);
}
