using FlowOrleans.GrainInterfaces;
using FlowOrleans.Transport;
using Orleans.Runtime.Placement;

namespace FlowOrleans.Grains.Placement;

/// <summary>Chooses the silo named by the grain's key, refusing when that silo is not a compatible, live member.</summary>
internal sealed class SiloBoundPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var key = target.GrainIdentity.Key.ToString();
        if (!SiloKeys.TryParse(key, out var silo))
        {
            throw new FlowException(FlowErrorCode.BadArg, $"'{key}' is not a silo address.");
        }

        // Placing the grain anywhere else would give the caller a transport that holds none of its flows.
        if (!context.GetCompatibleSilos(target).Contains(silo))
        {
            throw new FlowException(FlowErrorCode.BadState, $"Silo {silo} is not an active member of the cluster.");
        }

        return Task.FromResult(silo);
    }
}
