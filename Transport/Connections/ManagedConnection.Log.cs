using FlowOrleans.Transport.Endpoints;
using Microsoft.Extensions.Logging;

namespace FlowOrleans.Transport.Connections;

public sealed partial class ManagedConnection
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection to {Remote} closing: {Code} {Reason}")]
    private static partial void LogClosing(ILogger logger, Endpoint remote, FlowErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection to {Remote} silent for {Silence}; closing it")]
    private static partial void LogChannelTimeout(ILogger logger, Endpoint remote, TimeSpan silence);
}
