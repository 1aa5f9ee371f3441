using Microsoft.Extensions.Logging;

namespace FlowOrleans.Grains.Hosting;

public sealed partial class SiloFlowHost
{
    [LoggerMessage(1, LogLevel.Information, "Silo {Silo} flow manager listens on {Endpoint}")]
    private static partial void LogListening(ILogger logger, string silo, string endpoint);

    [LoggerMessage(2, LogLevel.Debug, "Silo {Silo} dialed {Endpoint} as flow {FlowId}")]
    private static partial void LogDialed(ILogger logger, string silo, string endpoint, Guid flowId);

    [LoggerMessage(3, LogLevel.Debug, "Silo {Silo} announced flow {FlowId} from {Remote} on '{Name}'")]
    private static partial void LogAnnounced(ILogger logger, string silo, Guid flowId, string remote, string name);

    [LoggerMessage(4, LogLevel.Warning, "Silo {Silo} could not accept a flow")]
    private static partial void LogAcceptFailed(ILogger logger, Exception exception, string silo);

    [LoggerMessage(5, LogLevel.Warning, "Silo {Silo} could not announce flow {FlowId}; closing it")]
    private static partial void LogAnnounceFailed(ILogger logger, Exception exception, string silo, Guid flowId);

    [LoggerMessage(6, LogLevel.Information, "Silo {Silo} closed flow {FlowId}: nobody claimed it in time")]
    private static partial void LogUnclaimed(ILogger logger, string silo, Guid flowId);

    [LoggerMessage(7, LogLevel.Debug, "Silo {Silo} registered its connection to routing ID {RoutingId}")]
    private static partial void LogRegistered(ILogger logger, string silo, string routingId);

    [LoggerMessage(8, LogLevel.Debug, "Silo {Silo} unregistered its connection to routing ID {RoutingId}")]
    private static partial void LogUnregistered(ILogger logger, string silo, string routingId);

    [LoggerMessage(9, LogLevel.Warning, "Silo {Silo} could not update the registration of routing ID {RoutingId}")]
    private static partial void LogRegistrationFailed(ILogger logger, Exception exception, string silo, string routingId);

    [LoggerMessage(10, LogLevel.Information, "Silo {Silo} pinned '{Name}' to {Endpoint}")]
    private static partial void LogPinned(ILogger logger, string silo, string name, string endpoint);

    [LoggerMessage(11, LogLevel.Information, "Silo {Silo} unpinned '{Name}'")]
    private static partial void LogUnpinned(ILogger logger, string silo, string name);

    [LoggerMessage(12, LogLevel.Warning, "Silo {Silo} membership watch failed; retrying")]
    private static partial void LogMembershipWatchFailed(ILogger logger, Exception exception, string silo);

    [LoggerMessage(13, LogLevel.Warning, "Silo {Silo} could not check pin '{Name}'")]
    private static partial void LogPinCheckFailed(ILogger logger, Exception exception, string silo, string name);

    [LoggerMessage(14, LogLevel.Information, "Silo {Silo} purged the routing-ID registrations of dead silo {DeadSilo}")]
    private static partial void LogRoutesPurged(ILogger logger, string silo, string deadSilo);

    [LoggerMessage(15, LogLevel.Warning, "Silo {Silo} could not purge the routing-ID registrations of dead silo {DeadSilo}")]
    private static partial void LogRoutesPurgeFailed(ILogger logger, Exception exception, string silo, string deadSilo);

    [LoggerMessage(16, LogLevel.Information, "Silo {Silo} closed flow {FlowId}: unused for longer than its lease ({Lease})")]
    private static partial void LogLeaseExpired(ILogger logger, string silo, Guid flowId, TimeSpan lease);
}
