using FlowOrleans.Grains.Placement;
using FlowOrleans.Grains.Security;
using FlowOrleans.Transport.Manager;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Serialization;

namespace FlowOrleans.Grains.Hosting;

/// <summary>Wires a silo's flow transport into any Orleans host.</summary>
public static class FlowOrleansSiloBuilderExtensions
{
    /// <summary>
    /// Adds the silo's flow transport: one <see cref="IFlowManager"/> per silo, built by the container from the
    /// <c>FlowOrleans:Transport</c> section (<see cref="FlowManagerOptions"/>, with <c>Connection</c> nested) and
    /// listening from the Active stage; the parts that hold flows, pins and routing registrations; and the silo-bound
    /// <see cref="GrainInterfaces.ISiloFlowGrain"/>. <see cref="FlowOrleansOptions"/> bind from the <c>FlowOrleans</c>
    /// section, then <paramref name="configure"/> runs. Both option sets are validated when the silo starts. Trust
    /// (<c>FlowOrleans:Trust</c>) gives the manager its principal and acceptor authorizer; the client policy
    /// (<c>FlowOrleans:Policy</c>) bounds what callers may ask the silo to dial and listen on; and methods marked
    /// <see cref="GrainInterfaces.Security.SiloOnlyAttribute"/> refuse Orleans clients. Register an
    /// <see cref="IFlowManager"/> before this call to replace the transport. The host must also register the stream
    /// provider named in <see cref="FlowOrleansOptions.StreamProvider"/>.
    /// </summary>
    public static ISiloBuilder AddFlowOrleans(this ISiloBuilder builder, Action<FlowOrleansOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<FlowOrleansOptions>().Bind(builder.Configuration.GetSection(FlowOrleansOptions.SectionName)).ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FlowOrleansOptions>, FlowOrleansOptionsValidator>());

        // The principal's directory moved under Trust; a configuration still naming the old key would otherwise run on a
        // new in-memory identity at every start without a word.
        var legacy = builder.Configuration[FlowOrleansOptions.SectionName + ":PrincipalDirectory"];
        options.Validate(_ => legacy is null, $"{FlowOrleansOptions.SectionName}:PrincipalDirectory moved to {FlowOrleansOptions.TrustSectionName}:PrincipalDirectory.");
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();

        // Host services first, so the configuration bound next and any Configure registered later override them.
        services.TryAddSingleton<SiloPrincipal>();
        services.TryAddSingleton<SiloAuthorizers>();
        services.TryAddSingleton<ClientRequestPolicy>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<FlowManagerOptions>, FlowManagerOptionsSetup>());
        services.AddOptions<FlowManagerOptions>().Bind(builder.Configuration.GetSection(FlowOrleansOptions.TransportSectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FlowManagerOptions>, FlowManagerOptionsValidator>());
        services.TryAddSingleton<IFlowManager>(sp => new FlowManager(sp.GetRequiredService<IOptions<FlowManagerOptions>>().Value));

        AddPart(services, sp => new SiloTransport(
            sp.GetRequiredService<IFlowManager>(),
            sp.GetRequiredService<IOptions<FlowOrleansOptions>>(),
            sp.GetRequiredService<ILocalSiloDetails>(),
            sp.GetRequiredService<SiloAuthorizers>(),
            sp.GetRequiredService<ClientRequestPolicy>(),
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<SiloTransport>>()));
        AddPart<HostedFlows>(services);
        AddPart<SiloPins>(services);
        AddPart<RoutingIdRegistrar>(services);
        AddPart<AcceptAnnouncer>(services);
        AddPart<MembershipWatcher>(services);
        services.Configure<Orleans.Serialization.ExceptionSerializationOptions>(SerializeRuntimeExceptions);
        AddPart<StrayPinSweep>(services);
        AddPart<PinHandover>(services);
        if (!services.Any(d => d.ImplementationType == typeof(SiloOnlyCallFilter)))
        {
            builder.AddIncomingGrainCallFilter<SiloOnlyCallFilter>();
        }

        services.AddPlacementDirector<SiloBoundPlacement, SiloBoundPlacementDirector>();

        // After Orleans' own settings: grain state with endpoints must read back from JSON storage.
        services.PostConfigure<OrleansJsonSerializerOptions>(o => TransportJsonConverters.AddTo(o.JsonSerializerSettings));
        return builder;
    }

    /// <summary>
    /// Lets Orleans serialize the exceptions of the resilience library it uses itself (<c>Polly.*</c>): a placement
    /// that times out (a silo failing over) is Orleans' <see cref="TimeoutException"/> with Polly's timeout inside, and
    /// without this the caller saw only "Could not find a codec for type Polly.Timeout.TimeoutRejectedException"
    /// (found by the chaos test).
    /// </summary>
    internal static void SerializeRuntimeExceptions(Orleans.Serialization.ExceptionSerializationOptions options) => options.SupportedNamespacePrefixes.Add("Polly");

    /// <summary>A part of the transport: one instance per silo, also taking part in the silo's lifecycle.</summary>
    private static void AddPart<T>(IServiceCollection services, Func<IServiceProvider, T>? factory = null)
        where T : class, ILifecycleParticipant<ISiloLifecycle>
    {
        if (services.Any(d => d.ServiceType == typeof(T)))
        {
            return;
        }

        if (factory is null)
        {
            services.AddSingleton<T>();
        }
        else
        {
            services.AddSingleton(factory);
        }

        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<T>());
    }
}
