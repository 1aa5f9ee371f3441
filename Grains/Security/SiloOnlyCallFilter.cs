using System.Reflection;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.GrainInterfaces.Security;
using FlowOrleans.Transport;
using Microsoft.Extensions.Logging;

namespace FlowOrleans.Grains.Security;

/// <summary>
/// Refuses calls from Orleans clients to methods marked <see cref="SiloOnlyAttribute"/>. Orleans names a call's source
/// (<see cref="IGrainCallContext.SourceId"/>): a grain activation (so some silo), a client, or, for calls a silo makes
/// outside any grain (its background parts), that silo's hosted client, whose ID names the silo. Only the last is a
/// client allowed here, and only for a silo that is a member of the cluster.
/// </summary>
/// <remarks>
/// The gateway does not check the source a client writes into its messages, so this stops every unmodified client, not
/// one whose Orleans runtime was altered to lie; the cluster's mutual TLS decides who can connect at all, and where a
/// forged call would matter more than a failed lookup the silos also require a secret (pins carry their owner digest).
/// </remarks>
internal sealed partial class SiloOnlyCallFilter(IClusterMembershipService membership, ILogger<SiloOnlyCallFilter> logger) : IIncomingGrainCallFilter
{
    private const string HostedClientPrefix = "hosted-";

    public Task Invoke(IIncomingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.InterfaceMethod?.GetCustomAttribute<SiloOnlyAttribute>() is null || IsSilo(context.SourceId))
        {
            return context.Invoke();
        }

        LogRefused(logger, context.InterfaceName, context.MethodName, context.SourceId);
        throw new FlowException(FlowErrorCode.NotTrusted, $"{context.InterfaceName}.{context.MethodName} is reachable only from silos.");
    }

    private bool IsSilo(GrainId? source)
    {
        if (source is not { } id)
        {
            return false;
        }

        if (!id.IsClient())
        {
            return true;
        }

        var key = id.Key.ToString();
        if (!key.StartsWith(HostedClientPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        // A hosted client's key is "hosted-" and its silo's address; an observer's key adds a suffix after '+'.
        var silo = key[HostedClientPrefix.Length..];
        var plus = silo.IndexOf('+', StringComparison.Ordinal);
        if (plus >= 0)
        {
            silo = silo[..plus];
        }

        return SiloKeys.TryParse(silo, out var address)
            && membership.CurrentSnapshot.GetSiloStatus(address) is SiloStatus.Active or SiloStatus.Joining or SiloStatus.ShuttingDown or SiloStatus.Stopping;
    }

    [LoggerMessage(1, LogLevel.Warning, "Refused a call to {InterfaceName}.{MethodName} from {Source}: only silos may call it")]
    private static partial void LogRefused(ILogger logger, string interfaceName, string methodName, GrainId? source);
}
