using FlowOrleans.Grains.Placement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace FlowOrleans.Grains.Hosting;

/// <summary>Wires a silo's flow transport into any Orleans host.</summary>
public static class FlowOrleansSiloBuilderExtensions
{
    /// <summary>
    /// Adds the silo's <see cref="SiloFlowHost"/> (one FlowManager per silo, started at the Active stage), the
    /// silo-bound <see cref="GrainInterfaces.ISiloFlowGrain"/> and validated <see cref="FlowOrleansOptions"/>.
    /// The host must also register the stream provider named in <see cref="FlowOrleansOptions.StreamProvider"/>.
    /// </summary>
    public static ISiloBuilder AddFlowOrleans(this ISiloBuilder builder, Action<FlowOrleansOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<FlowOrleansOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FlowOrleansOptions>, FlowOrleansOptionsValidator>());
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddMetrics();
        builder.Services.TryAddSingleton<SiloFlowHost>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<SiloFlowHost>());
        builder.Services.AddPlacementDirector<SiloBoundPlacement, SiloBoundPlacementDirector>();
        return builder;
    }
}
