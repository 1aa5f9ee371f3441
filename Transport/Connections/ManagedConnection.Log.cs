using FlowOrleans.Transport.Endpoints;
using Microsoft.Extensions.Logging;

namespace FlowOrleans.Transport.Connections;

public sealed partial class ManagedConnection
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection to {Remote} closing: {Code} {Reason}")]
    private static partial void LogClosing(ILogger logger, Endpoint remote, FlowErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection to {Remote} silent for {Silence}; closing it")]
    private static partial void LogChannelTimeout(ILogger logger, Endpoint remote, TimeSpan silence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a flow from {Remote}: no receive budget left (ConnectionOptions.ReceiveBudget {ReceiveBudget} B, FlowManagerOptions.TotalReceiveBudget across the manager's connections). Raise them to carry more connections or flows at once; further refusals on this connection are not logged")]
    private static partial void LogBudgetRefusal(ILogger logger, Endpoint remote, long receiveBudget);
}
